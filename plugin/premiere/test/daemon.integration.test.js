"use strict";

// The panel's daemon client and marker writer against a real reelmark daemon on loopback. Run by
// tests/test_premiere_plugin.py, which starts the daemon on an ephemeral port and generates the clip; on its own
// (plain `npm test`) it skips.
const test = require("node:test");
const assert = require("node:assert/strict");
const { DaemonClient } = require("../src/daemon.js");
const W = require("../src/workflow.js");
const R = require("../src/rational.js");
const { ppro, freshHost, markerRecords } = require("./helpers.js");

const address = process.env.REELMARK_TEST_HTTP;
const clipPath = process.env.REELMARK_TEST_CLIP;
const skip = address && clipPath ? false : "needs REELMARK_TEST_HTTP and REELMARK_TEST_CLIP (tests/test_premiere_plugin.py sets them)";

test("Analyze selected clip against a real daemon puts exact markers on the clip, idempotently", { skip }, async () => {
  const name = clipPath.split("/").pop();
  const { clip } = freshHost({ name, mediaPath: clipPath });
  ppro._addMarker(clip, { name: "mine", comments: "keep", startTicks: 0n });
  const client = new DaemonClient({ address, fetchImpl: fetch });
  const engines = await client.listEngines();
  assert.ok(engines.engines.some((e) => e.name === "signals" && e.available));

  const states = [];
  const out = await W.analyzeSelected(ppro, client, { onProgress: (job) => states.push(job.state), pollMs: 50 });
  assert.equal(states.at(-1), "JOB_STATE_SUCCEEDED");
  assert.ok(out.moments.length >= 2, `moments: ${out.moments.length}`);
  assert.equal(out.parsed.mediaPath, clipPath);
  const markers = await markerRecords(clip);
  assert.equal(markers.length, out.moments.length + 1);
  for (const moment of out.moments) {
    const marker = markers.find((m) => m.comments.endsWith(`[reelmark ${moment.id}]`));
    assert.ok(marker, moment.id);
    assert.equal(marker.start, R.secondsToTicks(moment.start).ticks);
    // The generated clip is 25 fps: every start sits on a frame boundary, 10160640000 ticks apart.
    assert.equal(marker.start % 10160640000n, 0n, `${moment.label} starts off the frame grid`);
  }

  // The second run comes from the daemon's cache and changes nothing.
  const count = ppro._state.transactions.length;
  const again = await W.analyzeSelected(ppro, client, { pollMs: 50 });
  assert.equal(again.result.unchanged, out.moments.length);
  assert.equal(ppro._state.transactions.length, count);
  assert.equal((await markerRecords(clip)).find((m) => m.name === "mine").comments, "keep");
});

test("a daemon that is not there: the exact command to start it", { skip }, async () => {
  const client = new DaemonClient({ address: "127.0.0.1:9", fetchImpl: fetch });
  await assert.rejects(client.listEngines(), /reelmark serve --http-address 127\.0\.0\.1:9/);
});
