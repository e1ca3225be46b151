// Moments from everything reelmark hands the panel, in one shape the marker writer takes.
//
// Sources: an Analysis from the daemon's JSON API (GetAnalysis, or the last WatchJob event), a file picked with
// "Import markers from file": OTIO JSON written by the bridge (`reelmark analyze --format otio`,
// `reelmark export`), a reelmark analysis .json (the results model), or the daemon's Export response saved as
// JSON (its `content` is base64 of one of those).
//
// Every moment comes out with exact media times as fractions of seconds from the media's first frame, which is
// what a Premiere clip marker counts from.
"use strict";

const R = require("./rational.js");
const COLOURS = require("./marker-colours.js");

const TAG = /\[reelmark (m-[0-9a-f]{16})\]/i;
const MOMENT_ID = /^m-[0-9a-f]{16}$/i;

class ReelmarkFileError extends Error {
  constructor(message) {
    super(message);
    this.name = "ReelmarkFileError";
  }
}

/** The reelmark moment id a marker's comment (or name) carries, or null for anyone else's marker. */
function idFromText(text) {
  const match = TAG.exec(text || "");
  return match ? match[1].toLowerCase() : null;
}

function idTag(id) {
  return `[reelmark ${id}]`;
}

/** The Premiere colour index (0-7) of a moment kind, from the bridge's table; null for a kind it lacks. */
function colourIndexForKind(kind) {
  const entry = COLOURS.kinds[kind];
  return entry ? entry.premiere_index : null;
}

/** What an editor reads in the marker's comment: the text, the score, the query, then the id tag (as the bridge). */
function markerComment(moment) {
  const parts = moment.text ? [moment.text] : [];
  if (moment.score !== null && moment.score !== undefined) parts.push(`score ${Number(moment.score).toFixed(2)}`);
  if (moment.query) parts.push(`query: ${moment.query}`);
  parts.push(idTag(moment.id));
  return parts.join(" · ");
}

function makeMoment(fields) {
  const moment = {
    id: String(fields.id).toLowerCase(),
    kind: fields.kind || "other",
    label: fields.label || fields.kind || "moment",
    text: fields.text || "",
    score: fields.score === undefined ? null : fields.score,
    query: fields.query || null,
    start: fields.start,
    end: R.cmp(fields.end, fields.start) < 0 ? fields.start : fields.end,
  };
  moment.comment = fields.comment && idFromText(fields.comment) === moment.id ? fields.comment : markerComment(moment);
  const kindColour = colourIndexForKind(moment.kind);
  moment.colourIndex = kindColour !== null ? kindColour : (fields.colourIndex !== undefined ? fields.colourIndex : 0);
  return moment;
}

// --- the daemon's Analysis (proto3 JSON) and the results model's JSON -------------------------------------------

/** Moments of an Analysis message from the daemon (`span.start`/`span.end` as {value, rate}). */
function fromWireAnalysis(analysis) {
  const moments = (analysis.moments || []).map((m) =>
    makeMoment({
      id: m.id,
      kind: m.kind,
      label: m.label,
      text: m.text,
      score: m.score,
      query: m.query,
      start: R.fromWireTime(m.span.start),
      end: R.fromWireTime(m.span.end),
    }),
  );
  const media = analysis.media || {};
  return { source: "daemon", mediaPath: media.path || null, analysisId: analysis.id || null, rate: probeRate(media.probeJson), moments, skipped: 0 };
}

/** Moments of the results model's JSON (`reelmark analyze -o x.json`: `start`/`end` as {value, rate}). */
function fromResultsJson(doc) {
  const moments = doc.moments.map((m) =>
    makeMoment({ id: m.id, kind: m.kind, label: m.label, text: m.text, score: m.score, query: m.query, start: R.fromWireTime(m.start), end: R.fromWireTime(m.end) }),
  );
  const media = doc.media || {};
  const rate = media.probe && media.probe.video && media.probe.video.rate ? R.exactRate(media.probe.video.rate) : null;
  return { source: "analysis", mediaPath: media.path || null, analysisId: null, rate, moments, skipped: 0 };
}

function probeRate(probeJson) {
  try {
    const probe = JSON.parse(probeJson || "null");
    return probe && probe.video && probe.video.rate ? R.exactRate(probe.video.rate) : null;
  } catch (_error) {
    return null;
  }
}

// --- OTIO -----------------------------------------------------------------------------------------------------

/** An OTIO RationalTime as exact seconds: its float rate is read as the exact rate it stands for. */
function otioSeconds(time) {
  if (!time || time.value === undefined || time.rate === undefined) throw new ReelmarkFileError("an OTIO time in this file has no value or rate");
  return R.div(R.toFraction(time.value), R.exactRate(time.rate));
}

function pathFromUrl(url) {
  if (!url) return null;
  if (!/^file:/i.test(url)) return url;
  let path = decodeURIComponent(url.replace(/^file:(\/\/[^/]*)?/i, ""));
  if (/^\/[A-Za-z]:\//.test(path)) path = path.slice(1); // file:///C:/... on Windows
  return path;
}

function activeReference(clip) {
  const refs = clip.media_references;
  if (refs && typeof refs === "object") return refs[clip.active_media_reference_key || "DEFAULT_MEDIA"] || Object.values(refs)[0] || null;
  return clip.media_reference || null;
}

function* walkClips(item) {
  if (!item || typeof item !== "object") return;
  const schema = String(item.OTIO_SCHEMA || "");
  if (schema.startsWith("Clip.")) {
    yield item;
    return;
  }
  for (const child of item.children || []) yield* walkClips(child);
}

/**
 * Moments from the reelmark markers of an OTIO timeline. A marker's time is taken from `metadata.reelmark`
 * (exact {value, rate} media seconds) when present; otherwise from `marked_range`, which counts source frames
 * from the media's timecode, minus the media reference's `available_range` start (the file's first frame).
 * Markers that are not reelmark's (no id) are counted in `skipped` and left alone.
 */
function fromOtio(doc) {
  const root = String(doc.OTIO_SCHEMA || "");
  const clips = root.startsWith("Timeline.") ? [...walkClips(doc.tracks)] : [...walkClips(doc)];
  if (!clips.length) throw new ReelmarkFileError("This OTIO file has no clips, so it has no clip markers to import.");
  const moments = [];
  const seen = new Set();
  let skipped = 0;
  let mediaPath = null;
  let rate = null;
  for (const clip of clips) {
    const ref = activeReference(clip);
    const available = ref && ref.available_range;
    const mediaStart = available ? otioSeconds(available.start_time) : R.frac(0n);
    if (ref && !mediaPath) mediaPath = pathFromUrl(ref.target_url);
    if (available && !rate) rate = R.exactRate(available.start_time.rate);
    for (const marker of clip.markers || []) {
      const meta = (marker.metadata && marker.metadata.reelmark) || {};
      const id = (meta.id && MOMENT_ID.test(meta.id) ? meta.id : null) || idFromText(marker.comment) || idFromText(marker.name);
      if (!id) {
        skipped += 1;
        continue;
      }
      if (seen.has(id.toLowerCase())) continue; // the same moment on two clips of one media
      seen.add(id.toLowerCase());
      let start;
      let end;
      if (meta.start && meta.end) {
        start = R.fromWireTime(meta.start);
        end = R.fromWireTime(meta.end);
      } else {
        const range = marker.marked_range;
        if (!range) throw new ReelmarkFileError(`marker "${marker.name}" has neither reelmark times nor a marked_range`);
        start = R.sub(otioSeconds(range.start_time), mediaStart);
        end = R.add(start, otioSeconds(range.duration));
      }
      const otioColour = meta.colour || marker.color;
      moments.push(
        makeMoment({
          id,
          kind: meta.kind,
          label: meta.label || marker.name,
          text: meta.text,
          score: meta.score,
          query: meta.query,
          comment: marker.comment,
          start,
          end,
          colourIndex: otioColour && COLOURS.otio[otioColour] !== undefined ? COLOURS.otio[otioColour] : undefined,
        }),
      );
    }
  }
  return { source: "otio", mediaPath, analysisId: null, rate, moments, skipped };
}

// --- files ----------------------------------------------------------------------------------------------------

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Decode base64 (proto3 JSON bytes; standard or URL-safe alphabet) to a UTF-8 string, without atob or Buffer. */
function decodeBase64Utf8(text) {
  const clean = String(text).replace(/[\s=]/g, "").replace(/-/g, "+").replace(/_/g, "/");
  const bytes = [];
  let buffer = 0;
  let bits = 0;
  for (const ch of clean) {
    const value = BASE64.indexOf(ch);
    if (value < 0) throw new ReelmarkFileError("the export's content is not valid base64");
    buffer = (buffer << 6) | value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 0xff);
    }
  }
  // UTF-8 by way of percent escapes: decodeURIComponent exists in every UXP version, TextDecoder may not.
  try {
    return decodeURIComponent(bytes.map((b) => "%" + b.toString(16).padStart(2, "0")).join(""));
  } catch (_error) {
    throw new ReelmarkFileError("the export's content is not UTF-8 text");
  }
}

const WHAT_TO_PICK =
  "Choose an .otio file written by `reelmark analyze CLIP --format otio -o CLIP.otio` or `reelmark export`, " +
  "a reelmark analysis .json, or a saved daemon Export response.";

/** Moments from a file's text, whatever reelmark wrote it; a ReelmarkFileError says what to pick instead. */
function parseMarkerFile(text, fileName = "the file") {
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (_error) {
    const hint = /^\s*</.test(text || "") ? " It looks like XML: Premiere imports FCP7 XML itself (File › Import)." : "";
    throw new ReelmarkFileError(`${fileName} is not JSON, so reelmark cannot read markers from it.${hint} ${WHAT_TO_PICK}`);
  }
  if (!doc || typeof doc !== "object") throw new ReelmarkFileError(`${fileName} holds no reelmark markers. ${WHAT_TO_PICK}`);
  if (typeof doc.content === "string" && (doc.format || doc.extension)) {
    const format = doc.format || doc.extension;
    if (!["json", "otio", "resolve-otio", ".json", ".otio"].includes(format)) {
      throw new ReelmarkFileError(`${fileName} is a daemon export in ${format} format; export the analysis as "otio" or "json" for Premiere's panel.`);
    }
    return parseMarkerFile(decodeBase64Utf8(doc.content), fileName);
  }
  if (typeof doc.OTIO_SCHEMA === "string") return fromOtio(doc);
  if (Array.isArray(doc.moments)) {
    if (doc.moments.some((m) => m && m.span)) return fromWireAnalysis(doc);
    return fromResultsJson(doc);
  }
  if (doc.analysis && Array.isArray(doc.analysis.moments)) return fromWireAnalysis(doc.analysis);
  throw new ReelmarkFileError(`${fileName} is JSON but not something reelmark wrote. ${WHAT_TO_PICK}`);
}

/** Only the moments whose kind is in `kinds` (a Set or array); every moment when `kinds` is null. */
function filterKinds(moments, kinds) {
  if (!kinds) return moments.slice();
  const wanted = kinds instanceof Set ? kinds : new Set(kinds);
  return moments.filter((m) => wanted.has(m.kind));
}

module.exports = {
  ReelmarkFileError,
  TAG,
  idFromText,
  idTag,
  colourIndexForKind,
  markerComment,
  fromWireAnalysis,
  fromResultsJson,
  fromOtio,
  otioSeconds,
  pathFromUrl,
  decodeBase64Utf8,
  parseMarkerFile,
  filterKinds,
};
