"use strict";

// The credential the panel sends: the daemon's token, or its per-install local token (`reelmark serve
// --print-local-token`). The first tests use a scripted fetch; the last runs against a real daemon and is run by
// tests/test_premiere_credential.py, which starts one with a local token (on its own, plain `npm test`, it skips).
const test = require("node:test");
const assert = require("node:assert/strict");
const { DaemonClient, DaemonError } = require("../src/daemon.js");

function recordingFetch(answers) {
  const calls = [];
  const fetchImpl = async (url, init) => {
    calls.push({ url, init });
    const answer = answers.shift();
    return { ok: answer.status < 400, status: answer.status, text: async () => JSON.stringify(answer.body) };
  };
  return { fetchImpl, calls };
}

test("a pasted token is trimmed and sent on calls and on polls", async () => {
  const { fetchImpl, calls } = recordingFetch([
    { status: 200, body: { engines: [] } },
    { status: 200, body: { id: "j-1", state: "JOB_STATE_RUNNING" } },
  ]);
  const client = new DaemonClient({ token: "  local-token-0123456789abcdefghij\n", fetchImpl });
  await client.listEngines();
  await client.getJob("j-1");
  for (const call of calls) assert.equal(call.init.headers.Authorization, "Bearer local-token-0123456789abcdefghij");
  assert.equal(calls[0].init.headers["Content-Type"], "application/json");
});

test("no token: no Authorization header at all", async () => {
  const { fetchImpl, calls } = recordingFetch([{ status: 200, body: { engines: [] } }, { status: 200, body: {} }]);
  const client = new DaemonClient({ token: "   ", fetchImpl });
  await client.listEngines();
  await client.getJob("j-1");
  assert.ok(calls.every((call) => !("Authorization" in call.init.headers)));
});

test("a refused credential says how to get the local token", async () => {
  const { fetchImpl } = recordingFetch([{ status: 401, body: { code: "unauthenticated", message: "needs the local token" } }]);
  const client = new DaemonClient({ fetchImpl });
  await assert.rejects(client.listEngines(), (e) => e instanceof DaemonError && e.code === "unauthenticated" && /reelmark serve --print-local-token/.test(e.message));
});

const address = process.env.REELMARK_TEST_HTTP;
const localToken = process.env.REELMARK_TEST_LOCAL_TOKEN;
const skip = address && localToken ? false : "needs REELMARK_TEST_HTTP and REELMARK_TEST_LOCAL_TOKEN (tests/test_premiere_credential.py sets them)";

test("a real daemon: a caller that sends an Origin needs the local token, and the panel's works", { skip }, async () => {
  // Node's fetch sends no Origin; a webview may send one (`null` for an opaque origin): add it, as such a host would.
  const withOrigin = (url, init) => fetch(url, { ...init, headers: { ...init.headers, Origin: "null" } });
  const without = new DaemonClient({ address, fetchImpl: withOrigin });
  await assert.rejects(without.listEngines(), (e) => e.code === "unauthenticated");
  const wrong = new DaemonClient({ address, token: "not-the-local-token-0000000000", fetchImpl: withOrigin });
  await assert.rejects(wrong.listEngines(), (e) => e.code === "unauthenticated");
  const panel = new DaemonClient({ address, token: `${localToken}\n`, fetchImpl: withOrigin });
  const engines = await panel.listEngines();
  assert.ok(engines.engines.some((e) => e.name === "signals"));
  await assert.rejects(panel.getJob("j-none"), (e) => e.code === "not_found");
});
