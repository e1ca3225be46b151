// The panel's two jobs, without any DOM: "Analyze selected clip" and "Import markers from file".
// panel.js draws them; the tests drive them directly against a fake `premierepro`/`uxp`.
"use strict";

const R = require("./rational.js");
const M = require("./moments.js");
const { importMoments } = require("./markers.js");
const { selectedClip, SelectionError } = require("./host.js");
const { DaemonError } = require("./daemon.js");

function baseName(path) {
  return String(path || "").split(/[\\/]/).pop();
}

/** Refuse markers made for another file: a marker file names its media, and clip markers belong to one file. */
function checkSameMedia(parsed, clip) {
  if (!parsed.mediaPath || !clip.mediaPath) return;
  if (baseName(parsed.mediaPath).toLowerCase() === baseName(clip.mediaPath).toLowerCase()) return;
  throw new SelectionError(
    `These markers are for "${baseName(parsed.mediaPath)}", but the selected clip is "${baseName(clip.mediaPath)}". ` +
      `Select the clip of ${baseName(parsed.mediaPath)} and import again.`,
  );
}

/** Put parsed moments (filtered by kind) on the selected clip. Returns everything the panel shows. */
async function applyParsed(ppro, parsed, { kinds = null, clip = null, label = null } = {}) {
  const target = clip || (await selectedClip(ppro));
  checkSameMedia(parsed, target);
  const moments = M.filterKinds(parsed.moments, kinds).sort((a, b) => R.cmp(a.start, b.start));
  const result = await importMoments(ppro, target.project, target.clip, moments, {
    label: label || `reelmark: ${moments.length} markers on ${target.name}`,
  });
  return { clip: target, parsed, moments, result, filteredOut: parsed.moments.length - moments.length };
}

/** Import from a file's text (what "Import markers from file" reads). */
async function importText(ppro, text, fileName, options = {}) {
  const parsed = M.parseMarkerFile(text, fileName);
  return applyParsed(ppro, parsed, options);
}

/**
 * "Import markers from file": the UXP file picker (storage.localFileSystem.getFileForOpening), then
 * importText. Returns null when the editor closes the picker without choosing.
 */
async function importFromPicker(ppro, uxp, options = {}) {
  const fs = uxp.storage.localFileSystem;
  const file = await fs.getFileForOpening({ types: ["otio", "json"] });
  if (!file) return null;
  const formats = uxp.storage.formats;
  const text = await file.read(formats ? { format: formats.utf8 } : undefined);
  return importText(ppro, text, file.name, options);
}

/** The AnalysisSpec for a clip: its media path, and its used part (source in → out) when asked. */
function analysisSpec(clip, { usedPartOnly = true, engine = "" } = {}) {
  if (!clip.mediaPath) {
    throw new SelectionError(
      `Premiere gives no media file for "${clip.name}" (ClipProjectItem.getMediaFilePath, Premiere 25.6 or newer): it is ` +
        "not a clip of a media file (an adjustment layer, a graphic or a title?), or its media is offline. Select a clip " +
        "of a media file; or analyse the file in a terminal with `reelmark analyze CLIP --format otio -o CLIP.otio`, then use Import markers from file.",
    );
  }
  const spec = { mediaPath: clip.mediaPath };
  if (engine) spec.engine = engine;
  if (usedPartOnly && clip.inTicks !== null && clip.outTicks !== null && clip.outTicks > clip.inTicks) {
    spec.start = R.toWireTime(R.ticksToSeconds(clip.inTicks));
    spec.end = R.toWireTime(R.ticksToSeconds(clip.outTicks));
  }
  return spec;
}

const FILE_FALLBACK =
  "\nIf the daemon is running and Premiere still cannot reach it (Adobe's network guide says Premiere on macOS " +
  "disallows http:// URLs), go on without it: analyse the clip in a terminal with " +
  "`reelmark analyze CLIP --format otio -o CLIP.otio`, then use Import markers from file.";

/** A daemon that cannot be reached (no daemon, or UXP refusing the loopback address): say how to go on without it. */
function withFileFallback(error) {
  if (!(error instanceof DaemonError) || error.code !== "unavailable") return error;
  return new DaemonError(error.code, error.message + FILE_FALLBACK);
}

/** "Analyze selected clip": the selection → StartAnalysis → poll → the Analysis's moments as markers. */
async function analyzeSelected(ppro, client, { kinds = null, usedPartOnly = true, onProgress = () => {}, sleep, isCancelled } = {}) {
  const clip = await selectedClip(ppro);
  const spec = analysisSpec(clip, { usedPartOnly });
  onProgress({ state: "STARTING", fraction: 0, stage: `sending ${clip.name} to reelmark` });
  const analysis = await client.analyze(spec, { onProgress, sleep, isCancelled }).catch((error) => {
    throw withFileFallback(error);
  });
  const parsed = M.fromWireAnalysis(analysis);
  const applied = await applyParsed(ppro, parsed, { kinds, clip, label: `reelmark: analyse ${clip.name}` });
  return { ...applied, analysis };
}

module.exports = { applyParsed, importText, importFromPicker, analyzeSelected, analysisSpec, checkSameMedia, baseName };
