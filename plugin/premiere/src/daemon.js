// The reelmark daemon's JSON API, as the panel speaks it with `fetch` (UXP has no gRPC).
//
// `POST /reelmark.v1.Reelmark/<Method>` with the request message as proto3 JSON, Connect unary style; errors
// come back as {"code", "message"}. `GET /v1/jobs/<id>` polls a job (UXP cannot rely on streamed responses, so
// the panel polls instead of using WatchJob). Field names are proto3 JSON's lowerCamelCase; int64 fields arrive
// as strings. See protos/reelmark/v1/service.proto and protos/README.md.
"use strict";

const DEFAULT_ADDRESS = "http://127.0.0.1:7331";
const SERVICE_PATH = "/reelmark.v1.Reelmark/";
const DONE_STATES = new Set(["JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED"]);

class DaemonError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "DaemonError";
    this.code = code;
  }
}

/**
 * The daemon's base URL from what the editor typed: "127.0.0.1:7331", "http://127.0.0.1:7331/"…
 * `localhost` becomes 127.0.0.1, because UXP on macOS blocks http://localhost.
 */
function normaliseAddress(text) {
  let address = String(text || "").trim() || DEFAULT_ADDRESS;
  if (!/^[a-z]+:\/\//i.test(address)) address = `http://${address}`;
  address = address.replace(/^(https?:\/\/)localhost(?=[:/]|$)/i, "$1127.0.0.1");
  return address.replace(/\/+$/, "");
}

function serveCommand(base) {
  const hostPort = base.replace(/^https?:\/\//i, "");
  return hostPort === "127.0.0.1:7331" ? "reelmark serve" : `reelmark serve --http-address ${hostPort}`;
}

function notRunning(base) {
  return new DaemonError(
    "unavailable",
    `reelmark's daemon is not answering at ${base}. Start it in a terminal with:\n    ${serveCommand(base)}\n` +
      "Leave it running, then try again. (If it runs on another port, put that address in Daemon below; " +
      "the plugin may only reach http://127.0.0.1:7331 unless its manifest lists the other port.)",
  );
}

const HINTS = {
  unauthenticated:
    "The daemon wants a token: paste the value of its REELMARK_TOKEN into Token below, or, if it was started " +
    "without one, its local token (run `reelmark serve --print-local-token` in a terminal once).",
  permission_denied: "The daemon refused: check its --media-root folders include this clip, or its --cors-origin.",
  not_found: "Check that the clip's media file is on this machine at the path Premiere shows.",
  failed_precondition: "This engine cannot run on the daemon's machine; use the signals engine.",
  resource_exhausted: "The daemon's queue is full; wait for running analyses to finish and try again.",
};

class DaemonClient {
  /**
   * `token`: the daemon's REELMARK_TOKEN, or without one its per-install local token, which the daemon asks of every
   * caller that sends an Origin (a webview may); pasted text is trimmed, since a copied line often ends in a newline.
   * `fetchImpl` defaults to the global fetch (UXP and Node 18+ both have it).
   */
  constructor({ address = DEFAULT_ADDRESS, token = "", fetchImpl = null } = {}) {
    this.base = normaliseAddress(address);
    this.token = String(token || "").trim();
    this.fetch = fetchImpl || ((...args) => fetch(...args));
  }

  /** The credential, on every request (POST calls and GET polls alike). */
  authorization() {
    return this.token ? { Authorization: `Bearer ${this.token}` } : {};
  }

  headers() {
    return { "Content-Type": "application/json", ...this.authorization() };
  }

  async request(path, init) {
    let response;
    try {
      response = await this.fetch(this.base + path, init);
    } catch (_error) {
      throw notRunning(this.base);
    }
    const text = await response.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : {};
    } catch (_error) {
      throw new DaemonError("unknown", `${this.base} answered with something that is not reelmark's JSON (HTTP ${response.status}). Is another program using that port?`);
    }
    if (!response.ok) {
      const code = (body && body.code) || "unknown";
      const hint = HINTS[code] ? ` ${HINTS[code]}` : "";
      throw new DaemonError(code, `${(body && body.message) || `HTTP ${response.status}`}${hint}`);
    }
    return body;
  }

  call(method, message = {}) {
    return this.request(SERVICE_PATH + method, { method: "POST", headers: this.headers(), body: JSON.stringify(message) });
  }

  listEngines() {
    return this.call("ListEngines", {});
  }

  /** Queue an analysis. `spec`: {mediaPath, engine?, tasks?, start?, end?} with times as {value, rate}. */
  startAnalysis(spec, force = false) {
    return this.call("StartAnalysis", force ? { spec, force: true } : { spec });
  }

  getJob(jobId) {
    return this.request(`/v1/jobs/${encodeURIComponent(jobId)}`, { method: "GET", headers: this.authorization() });
  }

  cancelJob(jobId) {
    return this.call("CancelJob", { jobId });
  }

  getAnalysis(analysisId) {
    return this.call("GetAnalysis", { analysisId });
  }

  exportAnalysis(analysisId, format = "otio") {
    return this.call("Export", { analysisId, format });
  }

  /**
   * Start an analysis and poll its job until it ends; `onProgress(job)` sees every poll. Returns the Analysis.
   * `sleep(ms)` is injectable so tests do not wait on a clock.
   */
  async analyze(spec, { onProgress = () => {}, pollMs = 500, sleep = defaultSleep, isCancelled = () => false } = {}) {
    let job = await this.startAnalysis(spec);
    onProgress(job);
    while (!DONE_STATES.has(job.state)) {
      if (isCancelled()) {
        await this.cancelJob(job.id).catch(() => {});
        throw new DaemonError("cancelled", "Analysis cancelled.");
      }
      await sleep(pollMs);
      job = await this.getJob(job.id);
      onProgress(job);
    }
    if (job.state !== "JOB_STATE_SUCCEEDED") {
      const error = job.error || {};
      const code = (error.code || "unknown").toLowerCase();
      const hint = HINTS[code] ? ` ${HINTS[code]}` : "";
      throw new DaemonError(code, `${error.message || `The analysis ended as ${job.state}.`}${hint}`);
    }
    return this.getAnalysis(job.analysisId);
  }
}

function defaultSleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

module.exports = { DaemonClient, DaemonError, normaliseAddress, serveCommand, DEFAULT_ADDRESS, DONE_STATES };
