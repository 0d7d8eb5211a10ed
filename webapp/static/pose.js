// Drawing COCO-17 poses over a photo on a canvas. No DOM lookups here: the caller passes the canvas.

export const COCO_KEYPOINTS = [
  "nose", "left_eye", "right_eye", "left_ear", "right_ear",
  "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
  "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
];

// Index pairs into COCO_KEYPOINTS.
export const LIMBS = [
  [5, 6], [5, 7], [7, 9], [6, 8], [8, 10], [5, 11], [6, 12], [11, 12],
  [11, 13], [13, 15], [12, 14], [14, 16], [0, 1], [0, 2], [1, 3], [2, 4],
];

// Points below this score are drawn hollow and grey, their limbs dashed.
export const LOW_SCORE = 0.3;

export const COLORS = {
  left: "#22d3ee",
  right: "#fb923c",
  centre: "#fde047",
  low: "rgba(226, 232, 240, 0.85)",
  outline: "rgba(15, 23, 42, 0.7)",
};

/** "left", "right" or "centre" for a COCO keypoint index (odd indices are the left side). */
export function sideOf(index) {
  if (index === 0) return "centre";
  return index % 2 === 1 ? "left" : "right";
}

function limbSide(a, b) {
  const sa = sideOf(a);
  const sb = sideOf(b);
  if (sa === sb) return sa;
  if (sa === "centre") return sb;
  if (sb === "centre") return sa;
  return "centre"; // shoulders, hips: across the body
}

/** "left_shoulder" -> "Left shoulder". */
export function prettyName(name) {
  const words = String(name).replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * Draw `source` (an ImageBitmap, image or canvas) filling `canvas`, then the skeleton.
 * Keypoint coordinates are pixels of an image `imageWidth` x `imageHeight` (the uploaded one).
 */
export function drawPhoto(canvas, source) {
  const context = canvas.getContext("2d");
  context.imageSmoothingEnabled = true;
  context.imageSmoothingQuality = "high";
  context.clearRect(0, 0, canvas.width, canvas.height);
  context.drawImage(source, 0, 0, canvas.width, canvas.height);
  return context;
}

// How one person is drawn among several: the selected one thicker and opaque, the others dimmed.
const EMPHASIS = {
  only: { width: 1, alpha: 1 }, // the only person: coloured by side, as a single pose always was
  selected: { width: 1.5, alpha: 1 },
  dimmed: { width: 0.8, alpha: 0.5 },
};

function lineWidthFor(canvas) {
  return Math.max(2, Math.round(Math.max(canvas.width, canvas.height) / 200));
}

/**
 * Draw one person's keypoints (null entries are skipped). `color`: one colour for the whole person
 * (when several are shown), else left/right/centre colours; `emphasis`: "only", "selected" or "dimmed".
 */
export function drawSkeleton(canvas, keypoints, imageWidth, imageHeight, { color = null, emphasis = "only" } = {}) {
  const context = canvas.getContext("2d");
  const sx = canvas.width / imageWidth;
  const sy = canvas.height / imageHeight;
  const points = keypoints.map((point) => point && { x: point.x * sx, y: point.y * sy, score: point.score });
  const style = EMPHASIS[emphasis] || EMPHASIS.only;
  const line = lineWidthFor(canvas) * style.width;
  const radius = Math.max(3.5, line * 1.6);
  const colorOf = (side) => color || COLORS[side];

  context.save();
  context.globalAlpha = style.alpha;
  context.lineCap = "round";
  context.lineJoin = "round";

  for (const [a, b] of LIMBS) {
    const p = points[a];
    const q = points[b];
    if (!p || !q) continue;
    const low = p.score < LOW_SCORE || q.score < LOW_SCORE;
    if (low) {
      // Dashed, and stopping short of the joints so hollow circles stay hollow.
      const [from, to] = shorten(p, q, radius + line);
      if (!from) continue;
      strokeLine(context, from, to, Math.max(1.5, line * 0.6) + 2, COLORS.outline, [line * 2, line * 2]);
      strokeLine(context, from, to, Math.max(1.5, line * 0.6), COLORS.low, [line * 2, line * 2]);
    } else {
      strokeLine(context, p, q, line + 2.5, COLORS.outline, []);
      strokeLine(context, p, q, line, colorOf(limbSide(a, b)), []);
    }
  }

  points.forEach((point, index) => {
    if (!point) return;
    const low = point.score < LOW_SCORE;
    context.setLineDash([]);
    context.beginPath();
    context.arc(point.x, point.y, radius, 0, Math.PI * 2);
    if (low) {
      context.lineWidth = Math.max(2, line * 0.7) + 2;
      context.strokeStyle = COLORS.outline;
      context.stroke();
      context.lineWidth = Math.max(2, line * 0.7);
      context.strokeStyle = COLORS.low;
      context.stroke();
    } else {
      context.fillStyle = colorOf(sideOf(index));
      context.fill();
      context.lineWidth = Math.max(1.5, line * 0.6);
      context.strokeStyle = "#ffffff";
      context.stroke();
    }
  });
  context.restore();
}

/**
 * Label a person on the photo with `label` (e.g. "2") at the top-left of `box` (image pixels); the
 * selected person's box is drawn too, dashed. Text is black or white, whichever reads on `color`.
 */
export function drawPersonTag(canvas, box, imageWidth, imageHeight, { color, label, selected }) {
  const context = canvas.getContext("2d");
  const sx = canvas.width / imageWidth;
  const sy = canvas.height / imageHeight;
  const line = lineWidthFor(canvas);
  const x = box.x * sx;
  const y = box.y * sy;
  context.save();
  if (selected) {
    context.setLineDash([line * 3, line * 2]);
    context.lineWidth = line + 2;
    context.strokeStyle = COLORS.outline;
    context.strokeRect(x, y, box.width * sx, box.height * sy);
    context.lineWidth = line;
    context.strokeStyle = color;
    context.strokeRect(x, y, box.width * sx, box.height * sy);
    context.setLineDash([]);
  }
  const size = Math.max(12, line * (selected ? 7 : 5.5));
  context.font = `700 ${size}px system-ui, sans-serif`;
  const padding = size * 0.35;
  const width = context.measureText(label).width + 2 * padding;
  const height = size + padding;
  const left = Math.min(Math.max(0, x), canvas.width - width);
  const top = Math.min(Math.max(0, y - height), canvas.height - height);
  context.globalAlpha = selected ? 1 : 0.8;
  context.fillStyle = color;
  context.fillRect(left, top, width, height);
  context.lineWidth = selected ? 3 : 1.5;
  context.strokeStyle = selected ? "#ffffff" : COLORS.outline;
  context.strokeRect(left, top, width, height);
  context.fillStyle = readableOn(color);
  context.textBaseline = "middle";
  context.fillText(label, left + padding, top + height / 2);
  context.restore();
}

/** "#000000" or "#ffffff", whichever contrasts more with a "#rrggbb" colour (WCAG luminance). */
export function readableOn(color) {
  const channels = [1, 3, 5].map((at) => parseInt(color.slice(at, at + 2), 16) / 255);
  const [r, g, b] = channels.map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) ? "#000000" : "#ffffff";
}

function shorten(p, q, by) {
  const length = Math.hypot(q.x - p.x, q.y - p.y);
  if (length <= 2 * by) return [null, null];
  const ux = (q.x - p.x) / length;
  const uy = (q.y - p.y) / length;
  return [{ x: p.x + ux * by, y: p.y + uy * by }, { x: q.x - ux * by, y: q.y - uy * by }];
}

function strokeLine(context, p, q, width, color, dash) {
  context.beginPath();
  context.setLineDash(dash);
  context.moveTo(p.x, p.y);
  context.lineTo(q.x, q.y);
  context.lineWidth = width;
  context.strokeStyle = color;
  context.stroke();
}
