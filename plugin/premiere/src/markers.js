// Writing moments as Premiere clip markers through the UXP `premierepro` API.
//
// The rules (DESIGN §10, Premiere UXP reference):
// - Markers.getMarkers(clipProjectItem) gives the clip's Markers; markers.getMarkers() lists Marker objects.
// - Every change is an Action: markers.createAddMarkerAction(name, type, startTickTime, durationTickTime,
//   comments), createRemoveMarkerAction(marker), createMoveMarkerAction(marker, tickTime), and on a Marker
//   createSetNameAction / createSetCommentsAction / createSetDurationAction / createSetColorByIndexAction.
// - Since 26.3 actions may only be created inside project.lockedAccess(() => project.executeTransaction(
//   (compoundAction) => ..., "label")); one transaction is one undo step.
//
// An import is one transaction: it removes reelmark's stale markers, updates the ones whose moment is still
// there, and adds the new ones. reelmark's markers are recognised by the `[reelmark m-…]` tag in their comment,
// so the user's own markers are never touched and a re-import of the same analysis changes nothing.
//
// Colour values: Constants.MarkerColor documents GREEN, RED, MAGNETA (sic), ORANGE, YELLOW, BLUE and CYAN (DESIGN
// §10, Premiere UXP reference); Premiere 26.5 adds MAGENTA and deprecates MAGNETA (changelog, v26.5.0), so
// MAGENTA is read first. A colour is set from that constant when Premiere provides it; for White, which has no
// constant, and on a build without the constants, the index is the one FCP7 XML's pproColor uses (0 Green …
// 7 Cyan): assumed, as no UXP document lists indices. Premiere's third colour (Purple in older versions,
// Magenta in newer ones) is assumed to be MAGENTA/MAGNETA.
//
// Colour: createAddMarkerAction takes no colour, and a marker added in a transaction exists only once the
// transaction has run, so a newly added marker gets its colour in a second, colour-only transaction straight
// after ("reelmark: colour markers"). Markers that were already there are recoloured inside the import itself.
"use strict";

const R = require("./rational.js");
const { idFromText } = require("./moments.js");

const COLOURS = require("./marker-colours.js");

const DEFAULT_MARKER_TYPE = "Comment";
const DOCUMENTED_COLOUR = {
  Green: ["GREEN"],
  Red: ["RED"],
  Purple: ["MAGENTA", "MAGNETA"],
  Orange: ["ORANGE"],
  Yellow: ["YELLOW"],
  Blue: ["BLUE"],
  Cyan: ["CYAN"],
};

/** The colour value to set for reelmark's colour `index`: the documented constant when Premiere has it. */
function markerColour(ppro, index) {
  const table = (ppro.Constants && ppro.Constants.MarkerColor) || {};
  const names = DOCUMENTED_COLOUR[COLOURS.premiere_names[index]] || [];
  const value = names.map((name) => table[name]).find(Number.isInteger);
  return value === undefined ? index : value;
}

class MarkerWriteError extends Error {
  constructor(message) {
    super(message);
    this.name = "MarkerWriteError";
  }
}

function markerType(ppro) {
  // Marker.MARKER_TYPE_COMMENT in the type definitions; the documented string otherwise.
  return (ppro.Marker && ppro.Marker.MARKER_TYPE_COMMENT) || DEFAULT_MARKER_TYPE;
}

/** Start and duration ticks of a moment; `exact` is false when a time fell between ticks (never on frame grids). */
function momentTicks(moment) {
  const start = R.secondsToTicks(moment.start);
  const duration = R.secondsToTicks(R.sub(moment.end, moment.start));
  return { start: start.ticks, duration: duration.ticks, exact: start.exact && duration.exact };
}

/** A plain snapshot of the clip's markers: who owns each, and its fields as Premiere reports them. */
async function readMarkers(markers) {
  const list = (await markers.getMarkers()) || [];
  const out = [];
  for (const marker of list) {
    const comments = (await marker.getComments()) || "";
    const name = (await marker.getName()) || "";
    const start = await marker.getStart();
    const duration = await marker.getDuration();
    out.push({
      marker,
      id: idFromText(comments),
      name,
      comments,
      start: BigInt(start.ticks),
      duration: BigInt(duration.ticks),
      colourIndex: await marker.getColorIndex(),
    });
  }
  return out;
}

/**
 * What an import does to the clip's markers, decided before anything is written:
 * `remove` reelmark markers whose moment is gone (or duplicated), `update` the ones whose moment changed,
 * `add` new moments; `unchanged` counts reelmark markers already right, `user` the markers that are not
 * reelmark's (left alone).
 */
function planImport(existing, moments) {
  const wanted = new Map();
  for (const moment of moments) wanted.set(moment.id, moment);
  const plan = { remove: [], update: [], add: [], unchanged: 0, user: 0 };
  const kept = new Set();
  for (const entry of existing) {
    if (!entry.id) {
      plan.user += 1;
      continue;
    }
    const moment = wanted.get(entry.id);
    if (!moment || kept.has(entry.id)) {
      plan.remove.push(entry);
      continue;
    }
    kept.add(entry.id);
    const ticks = momentTicks(moment);
    const changes = {};
    if (entry.name !== moment.label) changes.name = moment.label;
    if (entry.comments !== moment.comment) changes.comments = moment.comment;
    if (entry.start !== ticks.start) changes.start = ticks.start;
    if (entry.duration !== ticks.duration) changes.duration = ticks.duration;
    if (entry.colourIndex !== moment.colourIndex) changes.colourIndex = moment.colourIndex;
    if (Object.keys(changes).length) plan.update.push({ entry, moment, changes });
    else plan.unchanged += 1;
  }
  for (const moment of moments) if (!kept.has(moment.id)) plan.add.push(moment);
  return plan;
}

function tick(ppro, ticks) {
  // Exact ticks as a string: TickTime.createWithSeconds would go through a float.
  return ppro.TickTime.createWithTicks(ticks.toString());
}

function addAll(compound, actions) {
  for (const action of actions) {
    if (compound.addAction(action) === false) throw new MarkerWriteError("Premiere refused a marker change; nothing was changed.");
  }
}

/** Run one transaction under the project lock; false or a throw from Premiere becomes a MarkerWriteError. */
async function transaction(project, label, build) {
  let ok = false;
  let failure = null;
  await project.lockedAccess(() => {
    try {
      ok = project.executeTransaction((compound) => build(compound), label);
    } catch (error) {
      failure = error;
    }
  });
  if (failure) {
    if (failure instanceof MarkerWriteError) throw failure;
    throw new MarkerWriteError(`Premiere did not apply "${label}": ${failure.message || failure}. Nothing was changed.`);
  }
  if (ok === false) throw new MarkerWriteError(`Premiere did not apply "${label}". Nothing was changed; try again.`);
}

/**
 * Replace reelmark's markers on a clip with `moments`, leaving the user's markers alone.
 * Returns counts and the transactions run: 0 when nothing changed, 1 for the import, plus 1 colour-only step
 * when new markers needed a colour other than the one Premiere gave them.
 */
async function importMoments(ppro, project, clipProjectItem, moments, options = {}) {
  const label = options.label || `reelmark: ${moments.length} markers`;
  moments = moments.map((moment) => ({ ...moment, colourIndex: markerColour(ppro, moment.colourIndex) }));
  const markers = await ppro.Markers.getMarkers(clipProjectItem);
  if (!markers) throw new MarkerWriteError("Premiere gave no markers for this clip; select a clip (not a sequence or bin) and try again.");
  const plan = planImport(await readMarkers(markers), moments);
  const result = {
    added: plan.add.length,
    updated: plan.update.length,
    removed: plan.remove.length,
    unchanged: plan.unchanged,
    userMarkers: plan.user,
    transactions: 0,
    inexact: moments.filter((m) => !momentTicks(m).exact).length,
  };
  if (!plan.add.length && !plan.update.length && !plan.remove.length) return result;

  const type = markerType(ppro);
  await transaction(project, label, (compound) => {
    const actions = [];
    for (const entry of plan.remove) actions.push(markers.createRemoveMarkerAction(entry.marker));
    for (const { entry, changes } of plan.update) {
      if (changes.start !== undefined) actions.push(markers.createMoveMarkerAction(entry.marker, tick(ppro, changes.start)));
      if (changes.duration !== undefined) actions.push(entry.marker.createSetDurationAction(tick(ppro, changes.duration)));
      if (changes.name !== undefined) actions.push(entry.marker.createSetNameAction(changes.name));
      if (changes.comments !== undefined) actions.push(entry.marker.createSetCommentsAction(changes.comments));
      if (changes.colourIndex !== undefined) actions.push(entry.marker.createSetColorByIndexAction(changes.colourIndex));
    }
    for (const moment of plan.add) {
      const ticks = momentTicks(moment);
      actions.push(markers.createAddMarkerAction(moment.label, type, tick(ppro, ticks.start), tick(ppro, ticks.duration), moment.comment));
    }
    addAll(compound, actions);
  });
  result.transactions += 1;

  if (plan.add.length) {
    const byId = new Map(plan.add.map((m) => [m.id, m]));
    const toColour = (await readMarkers(markers)).filter((e) => e.id && byId.has(e.id) && e.colourIndex !== byId.get(e.id).colourIndex);
    if (toColour.length) {
      await transaction(project, "reelmark: colour markers", (compound) => {
        addAll(compound, toColour.map((e) => e.marker.createSetColorByIndexAction(byId.get(e.id).colourIndex)));
      });
      result.transactions += 1;
    }
  }
  return result;
}

/** Remove every reelmark marker from a clip (one transaction); the user's markers stay. */
async function removeReelmarkMarkers(ppro, project, clipProjectItem) {
  const markers = await ppro.Markers.getMarkers(clipProjectItem);
  const ours = (await readMarkers(markers)).filter((e) => e.id);
  if (ours.length) {
    await transaction(project, `reelmark: remove ${ours.length} markers`, (compound) => {
      addAll(compound, ours.map((e) => markers.createRemoveMarkerAction(e.marker)));
    });
  }
  return ours.length;
}

module.exports = { MarkerWriteError, momentTicks, readMarkers, planImport, importMoments, removeReelmarkMarkers, markerType, markerColour };
