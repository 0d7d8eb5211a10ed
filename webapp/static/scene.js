// The photo with every person of an answer drawn over it: shared by the result and the comparison.

import { boxOf, personColor } from "./people.js";
import { drawPersonTag, drawPhoto, drawSkeleton } from "./pose.js";

/**
 * The photo (a canvas of it alone), then every skeleton: the selected one last (on top), then the
 * numbered tags. One person is drawn as a single pose always was, coloured by side.
 */
export function drawPeople(canvas, { people, image, photo, selected }) {
  drawPhoto(canvas, photo);
  if (people.length === 1) {
    drawSkeleton(canvas, people[0].keypoints, image.width, image.height);
    return;
  }
  const order = [...people.keys()].filter((other) => other !== selected).concat(selected);
  for (const other of order) {
    const style = { color: personColor(other), emphasis: other === selected ? "selected" : "dimmed" };
    drawSkeleton(canvas, people[other].keypoints, image.width, image.height, style);
  }
  for (const other of order) {
    const box = boxOf(people[other]);
    const tag = { color: personColor(other), label: String(other + 1), selected: other === selected };
    if (box) drawPersonTag(canvas, box, image.width, image.height, tag);
  }
}

/** A copy of what `canvas` shows now (the photo alone), to redraw the skeletons over. */
export function snapshot(canvas) {
  const photo = document.createElement("canvas");
  photo.width = canvas.width;
  photo.height = canvas.height;
  photo.getContext("2d").drawImage(canvas, 0, 0);
  return photo;
}

/** The size the answer's pixels refer to: its `image`, else the photo as uploaded. */
export function imageSizeOf(result, upload) {
  const { width, height } = result.image || {};
  const usable = [width, height].every((side) => typeof side === "number" && Number.isFinite(side) && side > 0);
  return usable ? { width, height } : { width: upload.width, height: upload.height };
}
