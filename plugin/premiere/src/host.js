// Finding the clip the editor means, through the UXP `premierepro` API.
//
// Timeline first: the active sequence's selection (Sequence.getSelection → TrackItemSelection.getTrackItems),
// the first clip's project item (trackItem.getProjectItem, ClipProjectItem.cast) and its source in/out points
// (getInPoint/getOutPoint, in media time from the clip's first frame). Then the Project panel's selection
// (ProjectUtils.getSelection → ProjectItemSelection.getItems). The media path is
// ClipProjectItem.getMediaFilePath() (Premiere 25.6 and newer; the reference lists it with the first UXP builds).
//
// A selected sequence passes ClipProjectItem.cast too, so each item's getContentType() is checked against
// Constants.ContentType.MEDIA, as Adobe's sample panel does, and isSequence() where the constants are missing.
// The selection's track items may be video or audio (VideoClipTrackItem, AudioClipTrackItem: both have
// getProjectItem and in/out points). A graphic or title may give no ClipProjectItem at all, and an adjustment
// layer no media file (assumed: no document says what these return); each gets a message saying what to select.
"use strict";

class SelectionError extends Error {
  constructor(message) {
    super(message);
    this.name = "SelectionError";
  }
}

async function activeProject(ppro) {
  const project = await ppro.Project.getActiveProject();
  if (!project) throw new SelectionError("No project is open. Open a project, select a clip, then try again.");
  return project;
}

/** Why a project item is not a clip of a media file, or null when it is one (a sequence, a non-media item). */
async function notMedia(ppro, clip) {
  const types = ppro.Constants && ppro.Constants.ContentType;
  if (types && typeof clip.getContentType === "function") {
    const type = await clip.getContentType();
    if (type === types.SEQUENCE) return "sequence";
    if (type !== types.MEDIA) return "other";
  } else if (typeof clip.isSequence === "function" && (await clip.isSequence())) {
    return "sequence";
  }
  return null;
}

/** {clip, name, mediaPath} for a media clip, or {refused: "sequence" | "other", name} for anything else. */
async function clipFrom(ppro, projectItem) {
  if (!projectItem) return { refused: "other", name: "" };
  const clip = ppro.ClipProjectItem.cast(projectItem);
  const name = (clip && clip.name) || projectItem.name || "clip";
  if (!clip) return { refused: "other", name };
  const refused = await notMedia(ppro, clip);
  if (refused) return { refused, name };
  let mediaPath = null;
  if (typeof clip.getMediaFilePath === "function") mediaPath = (await clip.getMediaFilePath()) || null;
  return { clip, name, mediaPath };
}

function nothingToAnalyse(refusals) {
  const sequence = refusals.find((r) => r.refused === "sequence");
  if (sequence) {
    return new SelectionError(
      `"${sequence.name}" is a sequence, not a clip. Open it and select a clip inside it (or select a clip in the Project panel), then try again.`,
    );
  }
  if (refusals.length) {
    return new SelectionError(
      "The selection holds no clip of a media file (a graphic, a title or an adjustment layer?). Select a clip of a video or audio file, then try again.",
    );
  }
  return new SelectionError("No clip is selected. Select a clip in the timeline or in the Project panel, then try again.");
}

/**
 * The selected clip: {project, clip (ClipProjectItem), name, mediaPath, inTicks, outTicks, from}.
 * `inTicks`/`outTicks` (BigInt) are the timeline clip's source in and out points; null from the Project panel.
 */
async function selectedClip(ppro) {
  const project = await activeProject(ppro);
  const sequence = typeof project.getActiveSequence === "function" ? await project.getActiveSequence() : null;
  const refusals = [];
  if (sequence) {
    const selection = await sequence.getSelection();
    const items = selection ? (await selection.getTrackItems()) || [] : [];
    for (const item of items) {
      const found = await clipFrom(ppro, await item.getProjectItem());
      if (found.refused) {
        refusals.push(found);
        continue;
      }
      const inPoint = await item.getInPoint();
      const outPoint = await item.getOutPoint();
      return {
        project,
        ...found,
        inTicks: inPoint ? BigInt(inPoint.ticks) : null,
        outTicks: outPoint ? BigInt(outPoint.ticks) : null,
        from: "timeline",
      };
    }
  }
  if (ppro.ProjectUtils && typeof ppro.ProjectUtils.getSelection === "function") {
    const selection = await ppro.ProjectUtils.getSelection(project);
    for (const item of (selection ? await selection.getItems() : []) || []) {
      const found = await clipFrom(ppro, item);
      if (!found.refused) return { project, ...found, inTicks: null, outTicks: null, from: "project" };
      refusals.push(found);
    }
  }
  throw nothingToAnalyse(refusals);
}

module.exports = { SelectionError, selectedClip, activeProject };
