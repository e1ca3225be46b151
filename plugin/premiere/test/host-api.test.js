"use strict";

// The panel against what the Premiere UXP reference documents (issue #14): marker colours from
// Constants.MarkerColor, media-only selection through getContentType(), audio track items in the selection, and
// the file fallback in the message shown when the daemon cannot be reached.
const test = require("node:test");
const assert = require("node:assert/strict");
const W = require("../src/workflow.js");
const { selectedClip, SelectionError } = require("../src/host.js");
const { importText } = require("../src/workflow.js");
const { DaemonClient } = require("../src/daemon.js");
const { ppro, fixture, freshHost, framesToTicks, markerRecords } = require("./helpers.js");

test("marker colours come from the documented Constants.MarkerColor values", async () => {
  const { clip } = freshHost();
  // Any values Premiere gives: here a permutation, so hard-coded indices would land on the wrong colours.
  ppro._setConstants({ MarkerColor: { GREEN: 7, RED: 6, MAGNETA: 5, ORANGE: 4, YELLOW: 3, BLUE: 1, CYAN: 0 } });
  await importText(ppro, fixture("A001_C003.otio"), "A001_C003.otio");
  const byKind = {};
  for (const m of await markerRecords(clip)) byKind[m.name.split(" ")[0]] = m.colorIndex;
  assert.deepEqual(byKind, { shot: 1, activity: 6, highlight: 7 });
});

test("Premiere 26.5's MAGENTA is read before the deprecated MAGNETA", async () => {
  const { markerColour } = require("../src/markers.js");
  freshHost();
  ppro._setConstants({ MarkerColor: { GREEN: 0, RED: 1, MAGENTA: 12, MAGNETA: 11 } });
  assert.equal(markerColour(ppro, 2), 12);
  ppro._setConstants({ MarkerColor: { MAGNETA: 11 } });
  assert.equal(markerColour(ppro, 2), 11);
});

test("a colour with no documented constant (White) and a build without the constants use the assumed index", async () => {
  const { markerColour } = require("../src/markers.js");
  freshHost();
  assert.equal(markerColour(ppro, 5), 5, "White: no constant, the pproColor index");
  ppro._setConstants({ MarkerColor: null });
  assert.equal(markerColour(ppro, 6), 6, "no Constants.MarkerColor at all");
});

test("a sequence in the selection is refused with a message that says what to select", async () => {
  ppro._reset();
  ppro._selectInTimeline(ppro._newSequenceItem("Nested Sequence 02"), 0n, 100n);
  await assert.rejects(selectedClip(ppro), (e) => e instanceof SelectionError && /"Nested Sequence 02" is a sequence, not a clip/.test(e.message));
  ppro._selectInProject(ppro._newSequenceItem("Main Edit"));
  await assert.rejects(selectedClip(ppro), /"Main Edit" is a sequence/);
});

test("a sequence next to a clip in the selection is skipped for the clip", async () => {
  ppro._reset();
  const clip = ppro._newClip("A001_C003.mov", "/Volumes/Footage/A001_C003.mov");
  const sequence = ppro._newSequenceItem("Nested");
  ppro._selectInTimeline(sequence);
  ppro._state.project._sequence._selected.push(new ppro.VideoClipTrackItem(clip, 0n, 10n));
  assert.equal((await selectedClip(ppro)).clip, clip);
});

test("a graphic (no clip project item) says the selection holds no media clip", async () => {
  ppro._reset();
  ppro._selectInTimeline(new ppro.ProjectItem("Graphic"));
  await assert.rejects(selectedClip(ppro), /no clip of a media file \(a graphic, a title or an adjustment layer\?\)/);
});

test("an adjustment layer (a clip with no media file) cannot be analysed, and the message says why", async () => {
  ppro._reset();
  ppro._selectInTimeline(ppro._newClip("Adjustment Layer", ""));
  const clip = await selectedClip(ppro);
  assert.throws(() => W.analysisSpec(clip), (e) => e instanceof SelectionError && /"Adjustment Layer".*Premiere 25\.6.*adjustment layer/.test(e.message));
});

test("a clip's linked audio in the selection, before or instead of its video, gives the same clip and range", async () => {
  const inTicks = framesToTicks(30, 30000n, 1001n);
  const outTicks = framesToTicks(150, 30000n, 1001n);
  for (const audio of ["first", "only"]) {
    const { clip } = freshHost();
    ppro._selectInTimeline(clip, inTicks, outTicks, { audio });
    const found = await selectedClip(ppro);
    assert.equal(found.clip, clip, audio);
    assert.deepEqual([found.inTicks, found.outTicks], [inTicks, outTicks], audio);
  }
});

test("no daemon: the panel's message adds the import-from-file fallback", async () => {
  freshHost();
  const refused = async () => {
    throw new TypeError("fetch failed");
  };
  const client = new DaemonClient({ fetchImpl: refused });
  await assert.rejects(W.analyzeSelected(ppro, client, { sleep: async () => {} }), (e) =>
    /not answering at http:\/\/127\.0\.0\.1:7331/.test(e.message) && /reelmark analyze CLIP --format otio -o CLIP\.otio`, then use Import markers from file/.test(e.message));
});
