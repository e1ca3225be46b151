"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { addSubtitles, hasSpeech } = require("../src/subtitles.js");
const { DaemonClient, DaemonError } = require("../src/daemon.js");
const { ppro, uxp, freshHost } = require("./helpers.js");

const SRT = "1\n00:00:00,500 --> 00:00:02,000\nHello there.\n\n";

function analysis(kinds = ["speech"]) {
  return { id: "a-7", media: { path: "/Volumes/Footage/talk.mov" }, moments: kinds.map((kind) => ({ kind })) };
}

function daemonAnswering(content) {
  const calls = [];
  const fetchImpl = async (url, init) => {
    calls.push({ url, body: JSON.parse(init.body) });
    const body = { suggestedName: "talk.srt", extension: ".srt", content: Buffer.from(content).toString("base64") };
    return { ok: true, status: 200, text: async () => JSON.stringify(body) };
  };
  return { client: new DaemonClient({ fetchImpl }), calls };
}

test("Add subtitles exports SRT from the daemon, saves it where the editor picks and imports it", async () => {
  const { project } = freshHost();
  const { client, calls } = daemonAnswering(SRT);
  const out = await addSubtitles(ppro, uxp, client, analysis());
  assert.equal(calls.length, 1);
  assert.deepEqual(calls[0].body, { analysisId: "a-7", format: "srt" });
  assert.equal(uxp._state.saveCalls[0].suggestedName, "talk reelmark.srt");
  assert.equal(uxp._state.written[0]._text, SRT);
  assert.deepEqual(project._imported, [out.path]);
  assert.ok(out.imported && /drag it onto the sequence/.test(out.message));
});

test("a refused import keeps the file and says to use File > Import", async () => {
  freshHost();
  ppro._state.refuseImport = true;
  const out = await addSubtitles(ppro, uxp, daemonAnswering(SRT).client, analysis());
  assert.equal(out.imported, false);
  assert.match(out.message, /File > Import/);
});

test("closing the save picker does nothing more", async () => {
  const { project } = freshHost();
  uxp._state.saveAnswers.push(null);
  assert.equal(await addSubtitles(ppro, uxp, daemonAnswering(SRT).client, analysis()), null);
  assert.equal(project._imported, undefined);
});

test("an analysis without speech says to transcribe first, without calling the daemon", async () => {
  freshHost();
  const { client, calls } = daemonAnswering(SRT);
  assert.equal(hasSpeech(analysis(["shot"])), false);
  await assert.rejects(addSubtitles(ppro, uxp, client, analysis(["shot"])), (error) => error instanceof DaemonError && /transcribe/.test(error.message));
  assert.equal(calls.length, 0);
});
