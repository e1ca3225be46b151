"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { DaemonClient, DaemonError, normaliseAddress } = require("../src/daemon.js");

/** A scripted fetch: each call takes the next answer; records what was asked. */
function scriptedFetch(answers) {
  const calls = [];
  const fetchImpl = async (url, init = {}) => {
    calls.push({ url, method: init.method, headers: init.headers || {}, body: init.body ? JSON.parse(init.body) : null });
    const answer = answers.shift();
    if (!answer) throw new Error("unexpected call " + url);
    if (answer instanceof Error) throw answer;
    return { ok: answer.status < 400, status: answer.status, text: async () => (typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body)) };
  };
  return { fetchImpl, calls };
}

const noSleep = async () => {};

test("addresses: 127.0.0.1 by default, localhost rewritten (UXP on macOS blocks it)", () => {
  assert.equal(normaliseAddress(""), "http://127.0.0.1:7331");
  assert.equal(normaliseAddress("127.0.0.1:7331/"), "http://127.0.0.1:7331");
  assert.equal(normaliseAddress("http://localhost:7331"), "http://127.0.0.1:7331");
  assert.equal(normaliseAddress("localhost:9000"), "http://127.0.0.1:9000");
});

test("daemon down: the error gives the exact command to start it", async () => {
  const { fetchImpl } = scriptedFetch([new TypeError("Failed to fetch")]);
  const client = new DaemonClient({ fetchImpl });
  await assert.rejects(client.listEngines(), (e) => e instanceof DaemonError && e.code === "unavailable" && /\n    reelmark serve\n/.test(e.message) && /127\.0\.0\.1:7331/.test(e.message));
  const other = new DaemonClient({ address: "127.0.0.1:9000", fetchImpl: scriptedFetch([new TypeError("x")]).fetchImpl });
  await assert.rejects(other.listEngines(), /reelmark serve --http-address 127\.0\.0\.1:9000/);
});

test("daemon errors keep the daemon's message and add what to do", async () => {
  const { fetchImpl } = scriptedFetch([
    { status: 404, body: { code: "not_found", message: "no such file: /x.mov" } },
    { status: 401, body: { code: "unauthenticated", message: "token missing" } },
    { status: 200, body: "<html>" },
  ]);
  const client = new DaemonClient({ fetchImpl });
  await assert.rejects(client.startAnalysis({ mediaPath: "/x.mov" }), (e) => e.code === "not_found" && /no such file: \/x\.mov/.test(e.message) && /on this machine/.test(e.message));
  await assert.rejects(client.getJob("j-1"), /paste the value of its REELMARK_TOKEN/);
  await assert.rejects(client.getAnalysis("a-1"), /not reelmark's JSON/);
});

test("analyze: StartAnalysis, poll /v1/jobs/<id> until it succeeds, then GetAnalysis", async () => {
  const { fetchImpl, calls } = scriptedFetch([
    { status: 200, body: { id: "j-1", state: "JOB_STATE_QUEUED", fraction: 0 } },
    { status: 200, body: { id: "j-1", state: "JOB_STATE_RUNNING", fraction: 0.5, stage: "decoding video" } },
    { status: 200, body: { id: "j-1", state: "JOB_STATE_SUCCEEDED", fraction: 1, analysisId: "a-9" } },
    { status: 200, body: { id: "a-9", moments: [] } },
  ]);
  const client = new DaemonClient({ token: "s3cret", fetchImpl });
  const seen = [];
  const spec = { mediaPath: "/m/A.mov", start: { value: "1", rate: "2" } };
  const analysis = await client.analyze(spec, { onProgress: (job) => seen.push(job.state), sleep: noSleep });
  assert.equal(analysis.id, "a-9");
  assert.deepEqual(seen, ["JOB_STATE_QUEUED", "JOB_STATE_RUNNING", "JOB_STATE_SUCCEEDED"]);
  assert.equal(calls[0].url, "http://127.0.0.1:7331/reelmark.v1.Reelmark/StartAnalysis");
  assert.equal(calls[0].method, "POST");
  assert.deepEqual(calls[0].body, { spec });
  assert.equal(calls[0].headers["Content-Type"], "application/json");
  assert.equal(calls[0].headers.Authorization, "Bearer s3cret");
  assert.equal(calls[1].url, "http://127.0.0.1:7331/v1/jobs/j-1");
  assert.equal(calls[1].method, "GET");
  assert.equal(calls[1].headers.Authorization, "Bearer s3cret");
  assert.deepEqual(calls[3].body, { analysisId: "a-9" });
});

test("analyze: a failed job becomes an error with the daemon's reason", async () => {
  const { fetchImpl } = scriptedFetch([
    { status: 200, body: { id: "j-2", state: "JOB_STATE_RUNNING" } },
    { status: 200, body: { id: "j-2", state: "JOB_STATE_FAILED", error: { code: "INVALID_ARGUMENT", message: "cannot decode /m/x.mov" } } },
  ]);
  const client = new DaemonClient({ fetchImpl });
  await assert.rejects(client.analyze({ mediaPath: "/m/x.mov" }, { sleep: noSleep }), (e) => e.code === "invalid_argument" && /cannot decode/.test(e.message));
});

test("analyze: cancelling asks the daemon to cancel the job", async () => {
  const { fetchImpl, calls } = scriptedFetch([
    { status: 200, body: { id: "j-3", state: "JOB_STATE_RUNNING" } },
    { status: 200, body: { id: "j-3", state: "JOB_STATE_CANCELLED" } },
  ]);
  const client = new DaemonClient({ fetchImpl });
  await assert.rejects(client.analyze({ mediaPath: "/m/x.mov" }, { sleep: noSleep, isCancelled: () => true }), /cancelled/);
  assert.equal(calls[1].url, "http://127.0.0.1:7331/reelmark.v1.Reelmark/CancelJob");
  assert.deepEqual(calls[1].body, { jobId: "j-3" });
});
