"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const R = require("../src/rational.js");
const M = require("../src/moments.js");
const { fixture } = require("./helpers.js");

const NTSC = R.frac(30000n, 1001n);
const byId = (parsed) => new Map(parsed.moments.map((m) => [m.id, m]));

test("OTIO from the bridge: reelmark markers with exact media times, 30000/1001", () => {
  const parsed = M.parseMarkerFile(fixture("A001_C003.otio"), "A001_C003.otio");
  assert.equal(parsed.source, "otio");
  assert.equal(parsed.mediaPath, "/tmp/reelmark-fixtures/A001_C003.mov");
  assert.deepEqual(parsed.rate, NTSC);
  assert.equal(parsed.moments.length, 9);
  assert.equal(parsed.skipped, 0);
  const activity = byId(parsed).get("m-183269238c69759c");
  assert.equal(activity.kind, "activity");
  assert.equal(activity.label, "activity 1");
  assert.deepEqual(activity.start, R.div(R.frac(6n), NTSC)); // 6 frames after the first frame
  assert.deepEqual(activity.end, R.frac(31031n, 30000n));
  assert.match(activity.comment, /\[reelmark m-183269238c69759c\]$/);
  assert.equal(activity.colourIndex, 1); // activity → Red
});

test("without reelmark metadata, marked_range minus the media's available_range start gives the same times", () => {
  for (const name of ["A001_C003.otio", "B002_C011.otio"]) {
    const doc = JSON.parse(fixture(name));
    const withMeta = M.fromOtio(doc);
    for (const clip of doc.tracks.children[0].children) for (const marker of clip.markers) delete marker.metadata.reelmark;
    const fromRanges = M.fromOtio(doc);
    assert.equal(fromRanges.moments.length, withMeta.moments.length);
    const expected = byId(withMeta);
    for (const moment of fromRanges.moments) {
      // Ids come from the comment tag; times from timecode-absolute frames at a float rate.
      assert.deepEqual(moment.start, expected.get(moment.id).start, `${name} ${moment.id} start`);
      assert.deepEqual(moment.end, expected.get(moment.id).end, `${name} ${moment.id} end`);
    }
  }
});

test("25 fps OTIO with a 10:00:00:00 timecode counts from the media's first frame", () => {
  const parsed = M.parseMarkerFile(fixture("B002_C011.otio"));
  assert.deepEqual(parsed.rate, R.frac(25n));
  const shot2 = byId(parsed).get("m-f7a15f3e3469ecdf");
  assert.deepEqual(shot2.start, R.frac(1n)); // frame 900025 - 900000 = 25 frames
  assert.deepEqual(shot2.end, R.frac(14n, 5n));
  assert.equal(shot2.colourIndex, 6); // shot → Blue
});

test("a rounded 29.97 rate in someone else's OTIO still reads as 30000/1001", () => {
  const doc = JSON.parse(fixture("A001_C003.otio"));
  const clip = doc.tracks.children[0].children[0];
  const retime = (t) => Object.assign(t, { rate: 29.97 });
  retime(clip.media_references.DEFAULT_MEDIA.available_range.start_time);
  for (const marker of clip.markers) {
    delete marker.metadata.reelmark;
    retime(marker.marked_range.start_time);
    retime(marker.marked_range.duration);
  }
  const activity = byId(M.fromOtio(doc)).get("m-183269238c69759c");
  assert.deepEqual(activity.start, R.frac(1001n, 5000n));
});

test("markers without a reelmark id are skipped, not imported", () => {
  const doc = JSON.parse(fixture("B002_C011.otio"));
  const clip = doc.tracks.children[0].children[0];
  clip.markers.push({ OTIO_SCHEMA: "Marker.2", name: "director's pick", color: "RED", comment: "", metadata: {},
    marked_range: { start_time: { rate: 25, value: 900010 }, duration: { rate: 25, value: 0 } } });
  const parsed = M.fromOtio(doc);
  assert.equal(parsed.skipped, 1);
  assert.equal(parsed.moments.length, 7);
});

test("the results model's JSON, the daemon's Analysis and a saved Export response all read", () => {
  const json = M.parseMarkerFile(fixture("A001_C003.json"));
  assert.equal(json.source, "analysis");
  assert.equal(json.moments.length, 9);
  assert.deepEqual(json.rate, NTSC);
  const otio = byId(M.parseMarkerFile(fixture("A001_C003.otio")));
  for (const m of json.moments) {
    assert.deepEqual(m.start, otio.get(m.id).start);
    assert.equal(m.comment, otio.get(m.id).comment); // the panel writes the bridge's comment
  }

  const wire = {
    id: "a-1", media: { path: "/x/A001_C003.mov" },
    moments: [{ id: "m-0123456789abcdef", kind: "speech", label: "speech 1", score: 0.5, text: "hello",
      span: { start: { value: "1001", rate: "30000" }, end: { value: "2002", rate: "30000" } } }],
  };
  const daemon = M.parseMarkerFile(JSON.stringify(wire));
  assert.equal(daemon.source, "daemon");
  assert.deepEqual(daemon.moments[0].start, R.frac(1001n, 30000n));
  assert.equal(daemon.moments[0].comment, "hello · score 0.50 · [reelmark m-0123456789abcdef]");
  assert.equal(daemon.moments[0].colourIndex, 4); // speech → Yellow

  const exported = { format: "otio", extension: ".otio", suggestedName: "A001_C003.otio",
    content: Buffer.from(fixture("A001_C003.otio"), "utf8").toString("base64") };
  const viaExport = M.parseMarkerFile(JSON.stringify(exported));
  assert.equal(viaExport.source, "otio");
  assert.equal(viaExport.moments.length, 9);
});

test("bad files fail with a message that says what to pick", () => {
  assert.throws(() => M.parseMarkerFile("not json at all", "notes.txt"), (e) => e instanceof M.ReelmarkFileError && /notes\.txt is not JSON/.test(e.message) && /reelmark analyze/.test(e.message));
  assert.throws(() => M.parseMarkerFile("<?xml version='1.0'?><xmeml/>", "cut.xml"), /File › Import/);
  assert.throws(() => M.parseMarkerFile('{"hello": 1}', "x.json"), /not something reelmark wrote/);
  assert.throws(() => M.parseMarkerFile(JSON.stringify({ format: "fcp7xml", content: "PHhtZW1sLz4=" })), /export the analysis as "otio" or "json"/);
  assert.throws(() => M.parseMarkerFile('{"OTIO_SCHEMA": "Timeline.1", "tracks": {"children": []}}'), /no clips/);
});

test("kind filters keep only the chosen kinds", () => {
  const parsed = M.parseMarkerFile(fixture("A001_C003.otio"));
  assert.deepEqual([...new Set(M.filterKinds(parsed.moments, ["shot"]).map((m) => m.kind))], ["shot"]);
  assert.equal(M.filterKinds(parsed.moments, new Set(["shot", "highlight"])).length, 5);
  assert.equal(M.filterKinds(parsed.moments, null).length, 9);
  assert.equal(M.filterKinds(parsed.moments, []).length, 0);
});

test("base64 decoding handles UTF-8 text", () => {
  assert.equal(M.decodeBase64Utf8(Buffer.from("clip · 1 — ✓", "utf8").toString("base64")), "clip · 1 — ✓");
});
