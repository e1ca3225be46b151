"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const M = require("../src/moments.js");
const { importMoments, MarkerWriteError } = require("../src/markers.js");
const { importText } = require("../src/workflow.js");
const COLOURS = require("../src/marker-colours.js");
const { ppro, fixture, freshHost, framesToTicks, markerRecords } = require("./helpers.js");

const NTSC_FILE = "A001_C003.otio";
const PAL_FILE = "B002_C011.otio";

function userMarkers(clip) {
  return [
    ppro._addMarker(clip, { name: "Director likes this", comments: "use in the trailer", startTicks: framesToTicks(40, 30000n, 1001n), colorIndex: 3 }),
    ppro._addMarker(clip, { name: "boom in shot", comments: "", startTicks: framesToTicks(90, 30000n, 1001n), durationTicks: framesToTicks(12, 30000n, 1001n), colorIndex: 1 }),
  ];
}

test("30000/1001 markers land at exact ticks, counted from the media's first frame", async () => {
  const { clip } = freshHost();
  await importText(ppro, fixture(NTSC_FILE), NTSC_FILE);
  const markers = await markerRecords(clip);
  assert.equal(markers.length, 9);
  const find = (id) => markers.find((m) => m.comments.endsWith(`[reelmark ${id}]`));
  // activity 1: source frames 107898..107923 at 01:00:00;00 (frame 107892) = media frames 6..31
  const activity = find("m-183269238c69759c");
  assert.equal(activity.start, framesToTicks(6, 30000n, 1001n));
  assert.equal(activity.start, 50854003200n);
  assert.equal(activity.duration, framesToTicks(25, 30000n, 1001n));
  // shot 4 starts at 7007/1875 s = media frame 112
  assert.equal(find("m-626929431c0daed2").start, framesToTicks(112, 30000n, 1001n));
  assert.equal(ppro._state.createWithSecondsCalls, 0, "never float seconds");
});

test("25 fps markers land at exact ticks", async () => {
  const { clip } = freshHost({ name: "B002_C011.mov", mediaPath: "/media/B002_C011.mov" });
  await importText(ppro, fixture(PAL_FILE), PAL_FILE);
  const markers = await markerRecords(clip);
  assert.equal(markers.length, 7);
  const activity2 = markers.find((m) => m.name === "activity 2");
  assert.equal(activity2.start, framesToTicks(31, 25n)); // 900031 - 900000
  assert.equal(activity2.duration, framesToTicks(39, 25n));
  assert.equal(activity2.start, 314979840000n);
});

test("an import is one transaction holding every marker change; only colours follow, in a second step", async () => {
  const { clip } = freshHost();
  userMarkers(clip);
  const { result } = await importText(ppro, fixture(NTSC_FILE), NTSC_FILE);
  const log = ppro._state.transactions;
  const markerWrites = log.filter((t) => t.actions.some((a) => a.kind !== "setColor"));
  assert.equal(markerWrites.length, 1, "all adds/removes/moves in one transaction");
  assert.equal(markerWrites[0].actions.filter((a) => a.kind === "addMarker").length, 9);
  assert.match(markerWrites[0].label, /^reelmark: 9 markers on A001_C003\.mov$/);
  assert.equal(log.length, 2);
  assert.equal(log[1].label, "reelmark: colour markers");
  assert.ok(log[1].actions.every((a) => a.kind === "setColor"));
  assert.equal(result.added, 9);
  assert.equal(result.transactions, 2);
  assert.equal(result.userMarkers, 2);
});

test("colour indices come from the bridge's table", async () => {
  const { clip } = freshHost();
  await importText(ppro, fixture(NTSC_FILE), NTSC_FILE);
  const markers = await markerRecords(clip);
  const expected = { shot: 6, activity: 1, highlight: 0 };
  for (const m of markers) {
    const kind = m.name.split(" ")[0];
    assert.equal(m.colorIndex, expected[kind], m.name);
    assert.equal(m.colorIndex, COLOURS.kinds[kind].premiere_index);
  }
  // Green highlights need no colour action: Premiere's default is green.
  const colourActions = ppro._state.transactions[1].actions;
  assert.equal(colourActions.length, 8);
});

test("a re-import is idempotent and leaves the user's markers untouched", async () => {
  const { clip } = freshHost();
  const mine = userMarkers(clip);
  await importText(ppro, fixture(NTSC_FILE), NTSC_FILE);
  const before = await markerRecords(clip);
  const transactionsBefore = ppro._state.transactions.length;

  const again = await importText(ppro, fixture(NTSC_FILE), NTSC_FILE);
  assert.equal(ppro._state.transactions.length, transactionsBefore, "nothing to change, no transaction");
  assert.equal(again.result.unchanged, 9);
  assert.deepEqual(await markerRecords(clip), before);

  const after = await markerRecords(clip);
  assert.equal(after.length, 11);
  const user = after.filter((m) => !M.idFromText(m.comments));
  assert.deepEqual(user.map((m) => m.guid), mine.map((m) => m.guid));
  assert.deepEqual(user.map((m) => [m.name, m.comments, m.colorIndex]), [["Director likes this", "use in the trailer", 3], ["boom in shot", "", 1]]);
});

test("a re-import with changed moments updates reelmark's markers in place, in one transaction", async () => {
  const { clip } = freshHost();
  userMarkers(clip);
  await importText(ppro, fixture(NTSC_FILE), NTSC_FILE);
  const doc = JSON.parse(fixture(NTSC_FILE));
  const markers = doc.tracks.children[0].children[0].markers;
  const shot1 = markers.find((m) => m.name === "shot 1");
  shot1.metadata.reelmark.label = "shot 1 (wide)";
  shot1.metadata.reelmark.start = { value: 1001, rate: 30000 }; // moved one frame later
  markers.splice(markers.findIndex((m) => m.name === "activity 4"), 1); // gone in the new analysis
  const count = ppro._state.transactions.length;

  const { result } = await importText(ppro, JSON.stringify(doc), NTSC_FILE);
  assert.equal(ppro._state.transactions.length, count + 1);
  const kinds = ppro._state.transactions.at(-1).actions.map((a) => a.kind).sort();
  assert.deepEqual(kinds, ["moveMarker", "removeMarker", "setDuration", "setName"]);
  assert.deepEqual([result.updated, result.removed, result.added, result.unchanged], [1, 1, 0, 7]);
  const after = await markerRecords(clip);
  assert.equal(after.length, 10);
  const moved = after.find((m) => m.name === "shot 1 (wide)");
  assert.equal(moved.start, framesToTicks(1, 30000n, 1001n));
  assert.equal(moved.duration, framesToTicks(30, 30000n, 1001n));
  assert.equal(after.filter((m) => !M.idFromText(m.comments)).length, 2);
});

test("kind filters import only the chosen kinds and remove reelmark's others, never the user's", async () => {
  const { clip } = freshHost();
  userMarkers(clip);
  await importText(ppro, fixture(NTSC_FILE), NTSC_FILE);
  const { result } = await importText(ppro, fixture(NTSC_FILE), NTSC_FILE, { kinds: new Set(["shot"]) });
  assert.equal(result.removed, 5);
  const after = await markerRecords(clip);
  const ours = after.filter((m) => M.idFromText(m.comments));
  assert.deepEqual([...new Set(ours.map((m) => m.name.split(" ")[0]))], ["shot"]);
  assert.equal(ours.length, 4);
  assert.equal(after.length - ours.length, 2);
});

test("a marker whose comment carries the tag twice over is de-duplicated", async () => {
  const { clip } = freshHost();
  await importText(ppro, fixture(NTSC_FILE), NTSC_FILE);
  const first = (await markerRecords(clip))[0];
  ppro._addMarker(clip, { name: "copy", comments: first.comments, startTicks: 5n });
  const { result } = await importText(ppro, fixture(NTSC_FILE), NTSC_FILE);
  assert.equal(result.removed, 1);
  assert.equal((await markerRecords(clip)).length, 9);
});

test("when Premiere refuses the transaction nothing changes and the error says so", async () => {
  const { project, clip } = freshHost();
  userMarkers(clip);
  ppro._state.failNextTransaction = true;
  const moments = M.parseMarkerFile(fixture(NTSC_FILE)).moments;
  await assert.rejects(importMoments(ppro, project, clip, moments), (e) => e instanceof MarkerWriteError && /Nothing was changed/.test(e.message));
  assert.equal((await markerRecords(clip)).length, 2);
  assert.equal(ppro._state.transactions.length, 0);
});
