// "Add subtitles": the analysis's speech as an SRT file, imported into the project as a captions item.
//
// The daemon writes the SRT (Export, format "srt": cues in media time from the file's first frame, laid out by
// reelmark's line rules). UXP's sandbox lets the panel write only where the editor chooses, so the file is saved
// through the save picker (storage.localFileSystem.getFileForSaving, suggested beside-the-media name), then
// imported with Project.importFiles([path], suppressUI) (Premiere UXP reference, classes/project), which brings an
// .srt in as a captions item, as File › Import does. The UXP reference documents no call that turns a captions
// item into a sequence's caption track (ExtendScript's Sequence.createCaptionTrack has no UXP counterpart there:
// ASSUMED absent), so the panel says how: drag the item onto the sequence where the clip's media starts.
"use strict";

const { DaemonError } = require("./daemon.js");

function hasSpeech(analysis) {
  return Boolean(analysis && (analysis.moments || []).some((moment) => moment.kind === "speech"));
}

function stem(path) {
  const name = String(path || "reelmark").split(/[\\/]/).pop();
  return name.includes(".") ? name.slice(0, name.lastIndexOf(".")) : name;
}

function decodeBase64(text) {
  if (typeof Buffer !== "undefined") return Buffer.from(text || "", "base64").toString("utf8");
  return decodeURIComponent(escape(atob(text || ""))); // UXP: no Buffer
}

/**
 * Export the SRT, save it where the editor picks, import it into the project. Returns {path, imported, message},
 * or null when the editor closes the picker. Throws a DaemonError (one line) when the analysis has no speech.
 */
async function addSubtitles(ppro, uxp, client, analysis) {
  if (!hasSpeech(analysis)) {
    throw new DaemonError("no_speech", "This analysis has no speech to subtitle: analyse with the transcribe task first.");
  }
  const exported = await client.exportAnalysis(analysis.id, "srt");
  const file = await uxp.storage.localFileSystem.getFileForSaving(`${stem(analysis.media && analysis.media.path)} reelmark.srt`, { types: ["srt"] });
  if (!file) return null;
  await file.write(decodeBase64(exported.content), { format: uxp.storage.formats.utf8 });
  const project = await ppro.Project.getActiveProject();
  const imported = Boolean(project && (await project.importFiles([file.nativePath], true)));
  const message = imported
    ? `Subtitles saved to ${file.nativePath} and imported as a captions item: drag it onto the sequence where the clip's media starts (Premiere makes a caption track).`
    : `Subtitles saved to ${file.nativePath}; Premiere did not import them: use File > Import and choose that file, then drag it onto the sequence.`;
  return { path: file.nativePath, imported, message };
}

module.exports = { addSubtitles, hasSpeech };
