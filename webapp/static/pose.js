// Drawing a COCO-17 pose over a photo on a canvas. No DOM lookups here: the caller passes the canvas.

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

export function drawSkeleton(canvas, keypoints, imageWidth, imageHeight) {
  const context = canvas.getContext("2d");
  const sx = canvas.width / imageWidth;
  const sy = canvas.height / imageHeight;
  const points = keypoints.map((point) => ({ x: point.x * sx, y: point.y * sy, score: point.score }));
  const line = Math.max(2, Math.round(Math.max(canvas.width, canvas.height) / 200));
  const radius = Math.max(3.5, line * 1.6);

  context.save();
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
      strokeLine(context, p, q, line, COLORS[limbSide(a, b)], []);
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
      context.fillStyle = COLORS[sideOf(index)];
      context.fill();
      context.lineWidth = Math.max(1.5, line * 0.6);
      context.strokeStyle = "#ffffff";
      context.stroke();
    }
  });
  context.restore();
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
