// A fake `uxp` module: the file picker the panel uses.
//
// Documented API (UXP reference, https://developer.adobe.com/premiere-pro/uxp/uxp-api/reference-js/Modules/uxp/Persistent%20File%20Storage/FileSystemProvider/):
// require("uxp").storage.localFileSystem.getFileForOpening({types, allowMultiple, initialDomain}) resolves to a
// File (or null/undefined when the user cancels); File.read({format}) resolves to its text with
// storage.formats.utf8 (the default). A plugin needs "localFileSystem": "request" in requiredPermissions.
// localFileSystem.getFileForSaving(suggestedName, {types}) resolves to a File (or null when the user cancels);
// File.write(data, {format}) writes it (same reference page and File's).
"use strict";

const formats = { utf8: "utf8", binary: "binary" };
const state = { queue: [], pickerCalls: [], saveCalls: [], saveAnswers: [], written: [] };

class File {
  constructor(name, text) {
    this.name = name;
    this.nativePath = `/fake/${name}`;
    this.isFile = true;
    this._text = text;
  }
  async write(data, options = {}) {
    if (options.format && options.format !== formats.utf8) throw new Error("fake uxp: only utf8 writes are modelled");
    this._text = String(data);
    state.written.push(this);
  }
  async read(options = {}) {
    if (options.format && options.format !== formats.utf8) throw new Error("fake uxp: only utf8 reads are modelled");
    return this._text;
  }
}

const localFileSystem = {
  async getFileForOpening(options = {}) {
    state.pickerCalls.push(options);
    if (options.types !== undefined && !Array.isArray(options.types)) throw new Error("fake uxp: types must be an array of extensions");
    return state.queue.length ? state.queue.shift() : null; // null: the user cancelled
  },
  async getFileForSaving(suggestedName, options = {}) {
    state.saveCalls.push({ suggestedName, options });
    const answer = state.saveAnswers.length ? state.saveAnswers.shift() : suggestedName;
    return answer === null ? null : new File(answer, "");
  },
};

/** Queue what the next picker returns: a file's name and text, or null for "cancelled". */
function _queueFile(name, text) {
  state.queue.push(name === null ? null : new File(name, text));
}

function _reset() {
  state.queue = [];
  state.pickerCalls = [];
  state.saveCalls = [];
  state.saveAnswers = [];
  state.written = [];
}

module.exports = { storage: { localFileSystem, formats }, _queueFile, _reset, _state: state };
