// A fake `premierepro` module for tests: the part of Premiere's UXP DOM the panel uses, with the documented
// signatures and the documented rules enforced, plus a log of every transaction.
//
// Documented API it follows (Premiere UXP reference, https://developer.adobe.com/premiere-pro/uxp/ppro-reference/):
// - Project (classes/project): static getActiveProject(); getActiveSequence(); lockedAccess(callback);
//   executeTransaction(callback(compoundAction), undoString) → boolean. DESIGN §10: since 26.3, actions must be
//   created inside lockedAccess(() => executeTransaction(...)); one transaction is one undo step.
// - CompoundAction (classes/compoundaction): addAction(action) → boolean; `empty`.
// - Markers (classes/markers): static getMarkers(markerOwnerObject: Sequence | ClipProjectItem) → Markers;
//   createAddMarkerAction(Name: string, markerType: string, startTime: TickTime, duration: TickTime,
//   comments: string) → Action; createMoveMarkerAction(marker, tickTime); createRemoveMarkerAction(marker);
//   getMarkers(filters?: string[]) → Marker[].
// - Marker (classes/marker): getName, getComments, getStart → TickTime, getDuration → TickTime, getColorIndex,
//   getType; createSetNameAction(name), createSetCommentsAction(comments), createSetDurationAction(tickTime),
//   createSetColorByIndexAction(colorIndex), as used since #6. Colour indices 0-7 (Green Red Purple Orange Yellow
//   White Blue Cyan) are ASSUMED: they are FCP7 XML's pproColor order, and no UXP document lists them.
// - Constants (constants page; DESIGN §10): MarkerColor documents GREEN, RED, MAGNETA (sic), ORANGE, YELLOW, BLUE,
//   CYAN (26.5 adds MAGENTA and deprecates MAGNETA: changelog v26.5.0; the default fake is a 25.6–26.4 build);
//   their VALUES are ASSUMED here (the pproColor index of the matching colour; MAGNETA on the Purple slot; the
//   same numbers third-party plugins report reading from a live Premiere, which is not a document).
//   ContentType documents ANY, SEQUENCE, MEDIA; its values are ASSUMED (strings). A test may swap either table
//   (_setConstants) to prove the panel reads the constants rather than hard-coded numbers.
// - TickTime (classes/ticktime): static createWithTicks(ticks: string), createWithSeconds(seconds: number),
//   createWithFrameAndFrameRate; properties ticks (string), ticksNumber, seconds; TIME_ZERO.
// - ClipProjectItem (classes/clipprojectitem): static cast(projectItem) (a sequence's project item casts too:
//   "isSequence: Returns true if the project item is a sequence"); name; getMediaFilePath(); getContentType()
//   → Constants.ContentType; isSequence(). What a sequence or an adjustment layer returns from
//   getMediaFilePath is ASSUMED: "" (no media file).
// - Sequence (classes/sequence) getSelection() → TrackItemSelection (classes/trackitemselection) getTrackItems();
//   VideoClipTrackItem (classes/videocliptrackitem) and AudioClipTrackItem (classes/audiocliptrackitem):
//   getProjectItem(), getInPoint(), getOutPoint() (TickTime, relative to the start of the media). A selection
//   holding both a clip's video and its linked audio lists both (ASSUMED order: as selected).
// - Project.importFiles(filePaths: string[], suppressUI?, targetBin?, asNumberedStills?) → Promise<boolean>
//   (classes/project); an .srt comes in as a captions project item (as File › Import does: ASSUMED, the reference
//   says files; Adobe's help imports SRT captions so).
// - ProjectUtils (classes/projectutils) getSelection(project) → ProjectItemSelection (classes/projectitemselection)
//   getItems() → ProjectItem[].
//
// Behaviour the docs imply and the fake models: an action changes nothing until its transaction runs, so a
// marker added in a transaction cannot be coloured in that same transaction (there is no Marker object yet).
// ASSUMED, no document: new markers get colour index 0 (green, Premiere's UI default). The marker type strings
// "Comment", "Chapter", "WebLink", "FLVCuePoint" are the filter values the changelog (v26.5.0, Markers.getMarkers)
// names; that Marker.MARKER_TYPE_COMMENT equals "Comment" is ASSUMED (the samples pass the constant).
//
// Test hooks start with an underscore: _reset(), _state (the log), _addMarker(), _newClip()...
"use strict";

const TICKS_PER_SECOND = 254016000000n;
const DEFAULT_CONSTANTS = {
  MarkerColor: { GREEN: 0, RED: 1, MAGNETA: 2, ORANGE: 3, YELLOW: 4, BLUE: 6, CYAN: 7 },
  ContentType: { ANY: "any", SEQUENCE: "sequence", MEDIA: "media" },
};
const Constants = { MarkerColor: { ...DEFAULT_CONSTANTS.MarkerColor }, ContentType: { ...DEFAULT_CONSTANTS.ContentType } };
const MARKER_TYPES = ["Comment", "Chapter", "WebLink", "FLVCuePoint"];

const state = {
  project: null,
  transactions: [], // {label, actions: [{kind, ...}]}
  locked: false,
  inTransaction: false,
  createWithSecondsCalls: 0,
  failNextTransaction: false,
  refuseImport: false,
};

function fail(message) {
  throw new Error(`fake premierepro: ${message}`);
}

class TickTime {
  constructor(ticks) {
    this._ticks = BigInt(ticks);
  }
  static createWithTicks(ticks) {
    if (typeof ticks !== "string" || !/^-?\d+$/.test(ticks)) fail(`TickTime.createWithTicks takes ticks as a string of digits, got ${JSON.stringify(ticks)}`);
    return new TickTime(ticks);
  }
  static createWithSeconds(seconds) {
    if (typeof seconds !== "number") fail("TickTime.createWithSeconds takes a number");
    state.createWithSecondsCalls += 1;
    // ASSUMED: Premiere rounds the float to whole ticks; so does the fake, which is why reelmark must not use it
    // for 30000/1001.
    return new TickTime(BigInt(Math.round(seconds * Number(TICKS_PER_SECOND))));
  }
  get ticks() {
    return this._ticks.toString();
  }
  get ticksNumber() {
    return Number(this._ticks);
  }
  get seconds() {
    return Number(this._ticks) / Number(TICKS_PER_SECOND);
  }
}
TickTime.TIME_ZERO = new TickTime(0n);

function requireTickTime(value, what) {
  if (!(value instanceof TickTime)) fail(`${what} must be a TickTime`);
}

function requireLock(what) {
  if (!state.locked) fail(`${what} was called outside project.lockedAccess (actions must be created inside it since 26.3)`);
}

class Action {
  constructor(kind, details, apply) {
    this._kind = kind;
    this._details = details;
    this._apply = apply;
  }
}

class CompoundAction {
  constructor() {
    this._actions = [];
  }
  get empty() {
    return this._actions.length === 0;
  }
  addAction(action) {
    if (!(action instanceof Action)) fail("CompoundAction.addAction takes an Action");
    if (!state.inTransaction) fail("CompoundAction.addAction outside executeTransaction");
    this._actions.push(action);
    return true;
  }
}

let markerSerial = 0;

class Marker {
  constructor(owner, name, type, start, duration, comments) {
    markerSerial += 1;
    this.guid = `marker-${markerSerial}`;
    this._owner = owner;
    this._name = name;
    this._type = type;
    this._start = start;
    this._duration = duration;
    this._comments = comments;
    this._colorIndex = 0; // Premiere's default marker colour: green
  }
  getName() {
    return this._name;
  }
  getComments() {
    return this._comments;
  }
  getStart() {
    return this._start;
  }
  getDuration() {
    return this._duration;
  }
  getColorIndex() {
    return this._colorIndex;
  }
  getType() {
    return this._type;
  }
  _alive(what) {
    if (!this._owner._list.includes(this)) fail(`${what} on a marker that is no longer on its owner`);
  }
  createSetNameAction(name) {
    requireLock("Marker.createSetNameAction");
    if (typeof name !== "string") fail("createSetNameAction takes a string");
    return new Action("setName", { guid: this.guid, name }, () => {
      this._alive("setName");
      this._name = name;
    });
  }
  createSetCommentsAction(comments) {
    requireLock("Marker.createSetCommentsAction");
    if (typeof comments !== "string") fail("createSetCommentsAction takes a string");
    return new Action("setComments", { guid: this.guid, comments }, () => {
      this._alive("setComments");
      this._comments = comments;
    });
  }
  createSetDurationAction(tickTime) {
    requireLock("Marker.createSetDurationAction");
    requireTickTime(tickTime, "createSetDurationAction's tickTime");
    return new Action("setDuration", { guid: this.guid, ticks: tickTime.ticks }, () => {
      this._alive("setDuration");
      this._duration = tickTime;
    });
  }
  createSetColorByIndexAction(colorIndex) {
    requireLock("Marker.createSetColorByIndexAction");
    if (!Number.isInteger(colorIndex) || colorIndex < 0 || colorIndex > 7) fail(`colour index must be an integer 0-7, got ${colorIndex}`);
    return new Action("setColor", { guid: this.guid, colorIndex }, () => {
      this._alive("setColor");
      this._colorIndex = colorIndex;
    });
  }
}

class Markers {
  constructor() {
    this._list = [];
  }
  static async getMarkers(markerOwnerObject) {
    if (!(markerOwnerObject instanceof ClipProjectItem) && !(markerOwnerObject instanceof Sequence)) {
      fail("Markers.getMarkers takes a Sequence or a ClipProjectItem (cast a ProjectItem first)");
    }
    return markerOwnerObject._markers;
  }
  getMarkers(filters) {
    if (filters !== undefined && !Array.isArray(filters)) fail("Markers.getMarkers filters must be string[]");
    // ASSUMED: markers listed in time order (no document gives the order; the panel does not rely on it).
    const list = this._list.slice().sort((a, b) => (a._start._ticks < b._start._ticks ? -1 : a._start._ticks > b._start._ticks ? 1 : 0));
    return filters && filters.length ? list.filter((m) => filters.includes(m._type)) : list;
  }
  createAddMarkerAction(Name, markerType, startTime, duration, comments) {
    requireLock("Markers.createAddMarkerAction");
    if (typeof Name !== "string") fail("createAddMarkerAction: Name must be a string");
    if (!MARKER_TYPES.includes(markerType)) fail(`createAddMarkerAction: unknown markerType ${JSON.stringify(markerType)}`);
    requireTickTime(startTime, "createAddMarkerAction's startTime");
    requireTickTime(duration, "createAddMarkerAction's duration");
    if (typeof comments !== "string") fail("createAddMarkerAction: comments must be a string");
    return new Action("addMarker", { name: Name, type: markerType, start: startTime.ticks, duration: duration.ticks, comments }, () => {
      this._list.push(new Marker(this, Name, markerType, startTime, duration, comments));
    });
  }
  createRemoveMarkerAction(marker) {
    requireLock("Markers.createRemoveMarkerAction");
    if (!(marker instanceof Marker) || marker._owner !== this) fail("createRemoveMarkerAction takes one of this owner's markers");
    return new Action("removeMarker", { guid: marker.guid }, () => {
      const index = this._list.indexOf(marker);
      if (index < 0) fail("removing a marker twice");
      this._list.splice(index, 1);
    });
  }
  createMoveMarkerAction(marker, tickTime) {
    requireLock("Markers.createMoveMarkerAction");
    if (!(marker instanceof Marker) || marker._owner !== this) fail("createMoveMarkerAction takes one of this owner's markers");
    requireTickTime(tickTime, "createMoveMarkerAction's tickTime");
    return new Action("moveMarker", { guid: marker.guid, ticks: tickTime.ticks }, () => {
      marker._alive("moveMarker");
      marker._start = tickTime;
    });
  }
}

class ProjectItem {
  constructor(name) {
    this.name = name;
  }
}

class ClipProjectItem extends ProjectItem {
  constructor(name, mediaPath, contentType = Constants.ContentType.MEDIA) {
    super(name);
    this._mediaPath = mediaPath;
    this._contentType = contentType;
    this._markers = new Markers();
  }
  async getContentType() {
    return this._contentType;
  }
  async isSequence() {
    return this._contentType === Constants.ContentType.SEQUENCE;
  }
  static cast(projectItem) {
    return projectItem instanceof ClipProjectItem ? projectItem : null;
  }
  async getMediaFilePath() {
    return this._mediaPath;
  }
}

class VideoClipTrackItem {
  constructor(projectItem, inTicks, outTicks) {
    this._projectItem = projectItem;
    this._in = new TickTime(inTicks);
    this._out = new TickTime(outTicks);
  }
  async getProjectItem() {
    return this._projectItem;
  }
  async getInPoint() {
    return this._in;
  }
  async getOutPoint() {
    return this._out;
  }
  async getName() {
    return this._projectItem.name;
  }
}

class AudioClipTrackItem extends VideoClipTrackItem {}

class TrackItemSelection {
  constructor(items) {
    this._items = items;
  }
  async getTrackItems() {
    return this._items.slice();
  }
}

class Sequence {
  constructor(name) {
    this.name = name;
    this._markers = new Markers();
    this._selected = [];
  }
  async getSelection() {
    return new TrackItemSelection(this._selected);
  }
}

class ProjectItemSelection {
  constructor(items) {
    this._items = items;
  }
  async getItems() {
    return this._items.slice();
  }
}

class Project {
  constructor(name) {
    this.name = name;
    this._sequence = null;
    this._projectSelection = [];
  }
  static async getActiveProject() {
    return state.project;
  }
  async getActiveSequence() {
    return this._sequence;
  }
  async importFiles(filePaths, suppressUI = false, targetBin = null, asNumberedStills = false) {
    if (!Array.isArray(filePaths) || !filePaths.every((path) => typeof path === "string")) fail("importFiles takes an array of paths");
    if (state.refuseImport) return false;
    this._imported = (this._imported || []).concat(filePaths);
    return true;
  }
  lockedAccess(callback) {
    if (typeof callback !== "function") fail("lockedAccess takes a function");
    if (state.locked) fail("lockedAccess is not re-entrant");
    state.locked = true;
    try {
      callback();
    } finally {
      state.locked = false;
    }
  }
  executeTransaction(callback, undoString) {
    if (!state.locked) fail("executeTransaction outside lockedAccess (required since 26.3)");
    if (typeof undoString !== "string" || !undoString) fail("executeTransaction needs an undo string");
    if (state.inTransaction) fail("transactions do not nest");
    const compound = new CompoundAction();
    state.inTransaction = true;
    try {
      const returned = callback(compound);
      if (returned && typeof returned.then === "function") fail("the executeTransaction callback must add its actions synchronously");
    } finally {
      state.inTransaction = false;
    }
    if (state.failNextTransaction) {
      state.failNextTransaction = false;
      return false;
    }
    for (const action of compound._actions) action._apply();
    state.transactions.push({ label: undoString, actions: compound._actions.map((a) => ({ kind: a._kind, ...a._details })) });
    return true;
  }
}

const ProjectUtils = {
  async getSelection(project) {
    if (!(project instanceof Project)) fail("ProjectUtils.getSelection takes a Project");
    return new ProjectItemSelection(project._projectSelection);
  },
};

// --- test hooks -------------------------------------------------------------------------------------------------

/** A fresh project with a sequence; `clip` selected in the timeline when given. */
function _reset({ projectName = "Edit.prproj" } = {}) {
  state.project = new Project(projectName);
  state.project._sequence = new Sequence("Sequence 01");
  state.transactions = [];
  state.locked = false;
  state.inTransaction = false;
  state.createWithSecondsCalls = 0;
  state.failNextTransaction = false;
  state.refuseImport = false;
  _setConstants();
  return state.project;
}

function _newClip(name, mediaPath) {
  return new ClipProjectItem(name, mediaPath);
}

/** Select `clip` on the timeline with source in/out ticks; `audio` adds (or, "only", is) its linked audio. */
function _selectInTimeline(clip, inTicks = 0n, outTicks = 0n, { audio = false } = {}) {
  const video = new VideoClipTrackItem(clip, inTicks, outTicks);
  const sound = new AudioClipTrackItem(clip, inTicks, outTicks);
  state.project._sequence._selected = audio === "only" ? [sound] : audio === "first" ? [sound, video] : audio ? [video, sound] : [video];
}

/** A sequence's project item (a nested sequence on the timeline, or a sequence in the Project panel). */
function _newSequenceItem(name) {
  return new ClipProjectItem(name, "", Constants.ContentType.SEQUENCE);
}

/** Replace the Constants tables (or restore the defaults with no argument). */
function _setConstants(tables = DEFAULT_CONSTANTS) {
  for (const key of Object.keys(DEFAULT_CONSTANTS)) {
    if (tables[key] === null) delete Constants[key];
    else Constants[key] = { ...(tables[key] || DEFAULT_CONSTANTS[key]) };
  }
}

function _selectInProject(clip) {
  state.project._sequence._selected = [];
  state.project._projectSelection = [clip];
}

/** Put a marker on an owner as the user would (outside any reelmark transaction). */
function _addMarker(owner, { name, comments = "", startTicks, durationTicks = 0n, colorIndex = 0, type = "Comment" }) {
  const marker = new Marker(owner._markers, name, type, new TickTime(startTicks), new TickTime(durationTicks), comments);
  marker._colorIndex = colorIndex;
  owner._markers._list.push(marker);
  return marker;
}

module.exports = {
  TickTime,
  Project,
  CompoundAction,
  Markers,
  Marker: Object.assign(Marker, { MARKER_TYPE_COMMENT: "Comment", MARKER_TYPE_CHAPTER: "Chapter" }),
  ClipProjectItem,
  ProjectItem,
  Sequence,
  VideoClipTrackItem,
  AudioClipTrackItem,
  ProjectUtils,
  Constants,
  _state: state,
  _reset,
  _newClip,
  _selectInTimeline,
  _selectInProject,
  _addMarker,
  _newSequenceItem,
  _setConstants,
};
