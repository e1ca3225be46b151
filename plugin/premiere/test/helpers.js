// Shared set-up for the panel's tests: fresh fakes, fixtures, and exact expected ticks.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

const ppro = require("./fake/premierepro.js");
const uxp = require("./fake/uxp.js");

const FIXTURES = path.join(__dirname, "fixtures");
const TICKS_PER_SECOND = 254016000000n;

function fixture(name) {
  return fs.readFileSync(path.join(FIXTURES, name), "utf8");
}

/** A fresh fake Premiere with one clip selected on the timeline; returns {project, clip}. */
function freshHost({ name = "A001_C003.mov", mediaPath = "/Volumes/Footage/A001_C003.mov", inTicks = 0n, outTicks = 0n } = {}) {
  const project = ppro._reset();
  uxp._reset();
  const clip = ppro._newClip(name, mediaPath);
  ppro._selectInTimeline(clip, inTicks, outTicks);
  return { project, clip };
}

/** Ticks of `frames` frames at rate num/den, computed independently of the plugin: frames * den * TPS / num. */
function framesToTicks(frames, num, den = 1n) {
  const scaled = BigInt(frames) * BigInt(den) * TICKS_PER_SECOND;
  if (scaled % BigInt(num) !== 0n) throw new Error("not on the tick grid");
  return scaled / BigInt(num);
}

/** The clip's markers as plain records, in time order. */
async function markerRecords(clip) {
  const markers = await ppro.Markers.getMarkers(clip);
  return markers.getMarkers().map((m) => ({
    guid: m.guid,
    name: m.getName(),
    comments: m.getComments(),
    start: BigInt(m.getStart().ticks),
    duration: BigInt(m.getDuration().ticks),
    colorIndex: m.getColorIndex(),
  }));
}

module.exports = { ppro, uxp, fixture, freshHost, framesToTicks, markerRecords, TICKS_PER_SECOND, FIXTURES };
