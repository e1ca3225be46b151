// Finding the clip the editor means, through the UXP `premierepro` API.
//
// Timeline first: the active sequence's selection (Sequence.getSelection → TrackItemSelection.getTrackItems),
// the first clip's project item (trackItem.getProjectItem, ClipProjectItem.cast) and its source in/out points
// (getInPoint/getOutPoint, in media time from the clip's first frame). Then the Project panel's selection
// (ProjectUtils.getSelection → ProjectItemSelection.getItems). The media path is
// ClipProjectItem.getMediaFilePath() (Premiere 26.2 and newer).
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

async function clipFrom(ppro, projectItem) {
  if (!projectItem) return null;
  const clip = ppro.ClipProjectItem.cast(projectItem);
  if (!clip) return null;
  let mediaPath = null;
  if (typeof clip.getMediaFilePath === "function") mediaPath = (await clip.getMediaFilePath()) || null;
  return { clip, name: clip.name || projectItem.name || "clip", mediaPath };
}

/**
 * The selected clip: {project, clip (ClipProjectItem), name, mediaPath, inTicks, outTicks, from}.
 * `inTicks`/`outTicks` (BigInt) are the timeline clip's source in and out points; null from the Project panel.
 */
async function selectedClip(ppro) {
  const project = await activeProject(ppro);
  const sequence = typeof project.getActiveSequence === "function" ? await project.getActiveSequence() : null;
  if (sequence) {
    const selection = await sequence.getSelection();
    const items = selection ? (await selection.getTrackItems()) || [] : [];
    for (const item of items) {
      const found = await clipFrom(ppro, await item.getProjectItem());
      if (!found) continue;
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
      if (found) return { project, ...found, inTicks: null, outTicks: null, from: "project" };
    }
  }
  throw new SelectionError("No clip is selected. Select a clip in the timeline or in the Project panel, then try again.");
}

module.exports = { SelectionError, selectedClip, activeProject };
