"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const W = require("../src/workflow.js");
const { DaemonClient } = require("../src/daemon.js");
const { SelectionError } = require("../src/host.js");
const { ppro, uxp, fixture, freshHost, framesToTicks, markerRecords } = require("./helpers.js");

function analysisFor(mediaPath) {
  return {
    id: "a-1",
    media: { path: mediaPath, probeJson: JSON.stringify({ video: { rate: "30000/1001" } }) },
    moments: [
      { id: "m-00000000000000a1", kind: "shot", label: "shot 1", score: 1, span: { start: { rate: "1" }, end: { value: "1001", rate: "1000" } } },
      { id: "m-00000000000000a2", kind: "speech", label: "speech 1", text: "we open at nine", span: { start: { value: "1001", rate: "500" }, end: { value: "3003", rate: "1000" } } },
    ],
  };
}

function fakeDaemon(mediaPath) {
  const calls = [];
  const answers = [
    { id: "j-1", state: "JOB_STATE_QUEUED" },
    { id: "j-1", state: "JOB_STATE_RUNNING", fraction: 0.4, stage: "finding shots" },
    { id: "j-1", state: "JOB_STATE_SUCCEEDED", fraction: 1, analysisId: "a-1" },
    analysisFor(mediaPath),
  ];
  const fetchImpl = async (url, init) => {
    calls.push({ url, body: init.body ? JSON.parse(init.body) : null });
    const body = answers.shift();
    return { ok: true, status: 200, text: async () => JSON.stringify(body) };
  };
  return { client: new DaemonClient({ fetchImpl }), calls };
}

test("Analyze selected clip sends the media path and used range, then adds the markers", async () => {
  const inTicks = framesToTicks(30, 30000n, 1001n);
  const outTicks = framesToTicks(150, 30000n, 1001n);
  const { clip } = freshHost({ inTicks, outTicks });
  ppro._addMarker(clip, { name: "mine", startTicks: 0n });
  const { client, calls } = fakeDaemon("/Volumes/Footage/A001_C003.mov");
  const progress = [];
  const out = await W.analyzeSelected(ppro, client, { onProgress: (j) => progress.push(j.state), sleep: async () => {} });
  assert.deepEqual(calls[0].body.spec, {
    mediaPath: "/Volumes/Footage/A001_C003.mov",
    start: { value: "1001", rate: "1000" }, // 30 frames at 30000/1001 = 1.001 s, exactly
    end: { value: "1001", rate: "200" },
  });
  assert.deepEqual(progress, ["STARTING", "JOB_STATE_QUEUED", "JOB_STATE_RUNNING", "JOB_STATE_SUCCEEDED"]);
  assert.equal(out.result.added, 2);
  const markers = await markerRecords(clip);
  assert.deepEqual(markers.map((m) => [m.name, m.colorIndex]), [["mine", 0], ["shot 1", 6], ["speech 1", 4]]);
  assert.equal(markers[2].start, framesToTicks(60, 30000n, 1001n));
  assert.equal(markers[2].comments, "we open at nine · [reelmark m-00000000000000a2]");
  assert.equal(ppro._state.transactions[0].label, "reelmark: analyse A001_C003.mov");
});

test("Analyze with 'only the used part' off sends no range", () => {
  const spec = W.analysisSpec({ mediaPath: "/m/a.mov", inTicks: 10n, outTicks: 20n }, { usedPartOnly: false });
  assert.deepEqual(spec, { mediaPath: "/m/a.mov" });
});

test("no media path says getMediaFilePath exists since 25.6 and what to do instead", () => {
  assert.throws(() => W.analysisSpec({ name: "A.mov", mediaPath: null }), (e) => e instanceof SelectionError && /Premiere 25\.6 or newer/.test(e.message) && !/26\.2/.test(e.message) && /Import markers from file/.test(e.message));
});

test("Import markers from file goes through the UXP file picker", async () => {
  const { clip } = freshHost();
  uxp._queueFile("A001_C003.otio", fixture("A001_C003.otio"));
  const out = await W.importFromPicker(ppro, uxp, { kinds: new Set(["highlight"]) });
  assert.deepEqual(uxp._state.pickerCalls[0].types, ["otio", "json"]);
  assert.equal(out.moments.length, 1);
  assert.equal(out.filteredOut, 8);
  assert.deepEqual((await markerRecords(clip)).map((m) => m.name), ["highlight 1"]);
});

test("closing the file picker changes nothing", async () => {
  freshHost();
  uxp._queueFile(null);
  assert.equal(await W.importFromPicker(ppro, uxp), null);
  assert.equal(ppro._state.transactions.length, 0);
});

test("markers for another file are refused, naming both files", async () => {
  const { clip } = freshHost({ name: "B002_C011.mov", mediaPath: "/media/B002_C011.mov" });
  await assert.rejects(W.importText(ppro, fixture("A001_C003.otio"), "A001_C003.otio"), (e) => e instanceof SelectionError && /for "A001_C003\.mov", but the selected clip is "B002_C011\.mov"/.test(e.message));
  assert.equal((await markerRecords(clip)).length, 0);
});

test("nothing selected, or no project: the error says what to select", async () => {
  const project = ppro._reset();
  await assert.rejects(W.importText(ppro, fixture("A001_C003.otio"), "x"), /Select a clip in the timeline or in the Project panel/);
  ppro._state.project = null;
  await assert.rejects(W.importText(ppro, fixture("A001_C003.otio"), "x"), /No project is open/);
  ppro._state.project = project;
});

test("a clip selected in the Project panel works too (no in/out, whole clip)", async () => {
  ppro._reset();
  const clip = ppro._newClip("A001_C003.mov", "/Volumes/Footage/A001_C003.mov");
  ppro._selectInProject(clip);
  const out = await W.importText(ppro, fixture("A001_C003.otio"), "A001_C003.otio");
  assert.equal(out.clip.from, "project");
  assert.equal((await markerRecords(clip)).length, 9);
});
