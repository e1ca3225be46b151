// The panel's DOM: buttons, kind filters, progress, messages and the marker list. All the work is in
// workflow.js; this file only draws. UXP renders a subset of HTML/CSS (flexbox, no grid), so the markup stays plain.
"use strict";

const R = require("./rational.js");
const COLOURS = require("./marker-colours.js");
const W = require("./workflow.js");
const { DaemonClient, DEFAULT_ADDRESS } = require("./daemon.js");
const { removeReelmarkMarkers } = require("./markers.js");
const { selectedClip } = require("./host.js");
const { addSubtitles, hasSpeech } = require("./subtitles.js");

// Swatches close to Premiere's eight marker colours, by index (display only).
const SWATCHES = ["#5ebf4f", "#e2514c", "#a663d6", "#ef9a37", "#e6d24a", "#e9e9e9", "#4c8fe6", "#43c6d6"];
const KIND_ORDER = ["highlight", "shot", "transition", "activity", "person", "face", "speech", "silence", "segment", "reframe", "match", "description"];
const STORE_KEY = "reelmark.premiere.settings";

function loadSettings(storage) {
  try {
    return JSON.parse((storage && storage.getItem(STORE_KEY)) || "{}") || {};
  } catch (_error) {
    return {};
  }
}

function startPanel({ document, ppro, uxp, fetchImpl = null, storage = null, sleep = undefined }) {
  const $ = (id) => document.getElementById(id);
  const settings = loadSettings(storage);
  let busy = false;
  let cancelRequested = false;
  let lastAnalysis = null; // the daemon's Analysis of the last "Analyze selected clip", for "Add subtitles"

  // --- kind filters ----------------------------------------------------------------------------------------------
  const kinds = KIND_ORDER.filter((k) => COLOURS.kinds[k]).concat(Object.keys(COLOURS.kinds).filter((k) => !KIND_ORDER.includes(k)));
  const unchecked = new Set(settings.uncheckedKinds || []);
  for (const kind of kinds) {
    const index = COLOURS.kinds[kind].premiere_index;
    const label = document.createElement("label");
    label.className = "kind";
    label.title = `${kind}: ${COLOURS.premiere_names[index]} marker`;
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = !unchecked.has(kind);
    box.dataset.kind = kind;
    box.addEventListener("change", save);
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.backgroundColor = SWATCHES[index];
    const text = document.createElement("span");
    text.textContent = kind;
    label.append(box, swatch, text);
    $("kinds").appendChild(label);
  }
  const kindBoxes = () => Array.from($("kinds").querySelectorAll("input[type=checkbox]"));
  const chosenKinds = () => new Set(kindBoxes().filter((b) => b.checked).map((b) => b.dataset.kind));
  $("kinds-all").addEventListener("click", () => {
    kindBoxes().forEach((b) => (b.checked = true));
    save();
  });
  $("kinds-none").addEventListener("click", () => {
    kindBoxes().forEach((b) => (b.checked = false));
    save();
  });

  // --- settings ----------------------------------------------------------------------------------------------------
  $("daemon-address").value = settings.address || DEFAULT_ADDRESS;
  $("daemon-token").value = settings.token || "";
  if (settings.usedPartOnly === false) $("used-part").checked = false;
  for (const id of ["daemon-address", "daemon-token", "used-part"]) $(id).addEventListener("change", save);

  function save() {
    if (!storage) return;
    storage.setItem(STORE_KEY, JSON.stringify({
      address: $("daemon-address").value.trim(),
      token: $("daemon-token").value,
      usedPartOnly: $("used-part").checked,
      uncheckedKinds: kindBoxes().filter((b) => !b.checked).map((b) => b.dataset.kind),
    }));
  }

  // --- messages and progress ---------------------------------------------------------------------------------------
  function say(kind, text) {
    const box = $("message");
    box.className = `message ${kind}`;
    box.textContent = text;
  }

  function progress(job) {
    const box = $("progress-box");
    box.className = "progress";
    const fraction = Math.max(0, Math.min(1, Number(job.fraction) || 0));
    $("progress-fill").style.width = `${Math.round(fraction * 100)}%`;
    const state = String(job.state || "").replace("JOB_STATE_", "").toLowerCase();
    const eta = job.etaSeconds ? ` · about ${Math.ceil(job.etaSeconds)} s left` : "";
    const stage = job.stage ? job.stage : state === "queued" ? "waiting for a worker" : state;
    $("progress-text").textContent = `${stage} · ${Math.round(fraction * 100)}%${eta}${job.cached ? " · from the cache" : ""}`;
  }

  function setBusy(value) {
    busy = value;
    for (const id of ["btn-analyze", "btn-import", "btn-remove"]) $(id).disabled = value;
    $("btn-subtitles").disabled = value || !hasSpeech(lastAnalysis);
    if (!value) $("progress-box").className = "progress hidden";
  }

  // --- the marker list -------------------------------------------------------------------------------------------
  function renderList(out) {
    const list = $("marker-list");
    list.textContent = "";
    const rate = out.parsed.rate;
    if (!out.moments.length) {
      const empty = document.createElement("div");
      empty.className = "empty muted";
      empty.textContent = "No moments of the chosen kinds.";
      list.appendChild(empty);
    }
    for (const m of out.moments) {
      const row = document.createElement("div");
      row.className = "marker";
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.backgroundColor = SWATCHES[m.colourIndex];
      swatch.title = COLOURS.premiere_names[m.colourIndex];
      const time = document.createElement("span");
      time.className = "time";
      time.textContent = rate ? R.formatTimecode(m.start, rate) : `${R.toDecimalString(m.start, 2)} s`;
      const length = R.sub(m.end, m.start);
      const body = document.createElement("span");
      body.className = "body";
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = m.label;
      const meta = document.createElement("span");
      meta.className = "meta muted";
      const note = m.comment.replace(/\s*·?\s*\[reelmark m-[0-9a-f]{16}\]$/i, "");
      meta.textContent = [m.kind, length.n ? `${R.toDecimalString(length, 2)} s` : "point", note].filter(Boolean).join(" · ");
      body.append(name, meta);
      row.append(swatch, time, body);
      list.appendChild(row);
    }
    const r = out.result;
    $("summary").textContent = `${out.moments.length} markers on ${out.clip.name} · times from its first frame`;
    const parts = [];
    if (r.added) parts.push(`${r.added} added`);
    if (r.updated) parts.push(`${r.updated} updated`);
    if (r.removed) parts.push(`${r.removed} old removed`);
    if (r.unchanged) parts.push(`${r.unchanged} already there`);
    if (out.filteredOut) parts.push(`${out.filteredOut} of unchosen kinds skipped`);
    if (out.parsed.skipped) parts.push(`${out.parsed.skipped} markers in the file were not reelmark's and were skipped`);
    parts.push(r.userMarkers ? `your ${r.userMarkers} own markers untouched` : "your own markers are never touched");
    const undo = r.transactions ? ` Undo: Edit › Undo (${r.transactions === 1 ? "one step" : "two steps: colours, then markers"}).` : "";
    say("ok", `${parts.join(", ")}.${undo}`);
  }

  function fail(error) {
    say("error", error && error.message ? error.message : String(error));
  }

  async function showSelection() {
    try {
      const clip = await selectedClip(ppro);
      $("clip-name").textContent = clip.name;
      $("clip-name").className = "clip";
    } catch (_error) {
      $("clip-name").textContent = "No clip selected";
      $("clip-name").className = "clip muted";
    }
  }

  // --- actions ----------------------------------------------------------------------------------------------------
  async function analyze() {
    if (busy) return;
    setBusy(true);
    cancelRequested = false;
    say("info", "Analysing… markers appear when the daemon is done.");
    try {
      const client = new DaemonClient({ address: $("daemon-address").value, token: $("daemon-token").value, fetchImpl });
      const out = await W.analyzeSelected(ppro, client, {
        kinds: chosenKinds(),
        usedPartOnly: $("used-part").checked,
        onProgress: progress,
        sleep,
        isCancelled: () => cancelRequested,
      });
      lastAnalysis = out.analysis;
      renderList(out);
    } catch (error) {
      fail(error);
    } finally {
      setBusy(false);
      showSelection();
    }
  }

  async function subtitles() {
    if (busy || !lastAnalysis) return;
    setBusy(true);
    try {
      const client = new DaemonClient({ address: $("daemon-address").value, token: $("daemon-token").value, fetchImpl });
      const out = await addSubtitles(ppro, uxp, client, lastAnalysis);
      if (out) say(out.imported ? "ok" : "info", out.message);
    } catch (error) {
      fail(error);
    } finally {
      setBusy(false);
    }
  }

  async function importFile() {
    if (busy) return;
    setBusy(true);
    try {
      const out = await W.importFromPicker(ppro, uxp, { kinds: chosenKinds() });
      if (out) renderList(out);
    } catch (error) {
      fail(error);
    } finally {
      setBusy(false);
      showSelection();
    }
  }

  async function removeOurs() {
    if (busy) return;
    setBusy(true);
    try {
      const clip = await selectedClip(ppro);
      const count = await removeReelmarkMarkers(ppro, clip.project, clip.clip);
      say("ok", count ? `Removed ${count} reelmark markers from ${clip.name}; your own markers stay.` : `${clip.name} has no reelmark markers.`);
    } catch (error) {
      fail(error);
    } finally {
      setBusy(false);
    }
  }

  $("btn-analyze").addEventListener("click", analyze);
  $("btn-import").addEventListener("click", importFile);
  $("btn-remove").addEventListener("click", removeOurs);
  $("btn-subtitles").addEventListener("click", subtitles);
  $("btn-cancel").addEventListener("click", () => {
    cancelRequested = true;
    $("progress-text").textContent = "Cancelling…";
  });
  showSelection();

  return { analyze, importFile, removeOurs, subtitles, showSelection, say };
}

module.exports = { startPanel, SWATCHES };
