// The people in an answer, best first, each cleaned so that drawing and listing them cannot throw;
// and which of them a point on the photo belongs to. No DOM here.

// Okabe & Ito's colour-blind-safe palette, in an order where neighbours differ in lightness too.
// Colour is never the only cue: the selected person is also drawn thicker, boxed and labelled.
export const PERSON_COLORS = ["#e69f00", "#56b4e9", "#009e73", "#f0e442", "#cc79a7", "#d55e00", "#0072b2"];

export function personColor(index) {
  return PERSON_COLORS[index % PERSON_COLORS.length];
}

export const personName = (index) => `Person ${index + 1}`;

/** " (0.97)" after a person's name, or nothing when the server gave no score. */
export const scoreText = (someone) => (someone.score === null ? "" : ` (${someone.score.toFixed(2)})`);

const isObject = (value) => typeof value === "object" && value !== null && !Array.isArray(value);
const finite = (value) => typeof value === "number" && Number.isFinite(value);

/** A keypoint with finite x, y and score, or null (drawn and listed as missing). */
function cleanPoint(point) {
  if (!isObject(point) || !finite(point.x) || !finite(point.y) || !finite(point.score)) return null;
  return { name: typeof point.name === "string" ? point.name : "", x: point.x, y: point.y, score: point.score };
}

function cleanBox(box) {
  if (!isObject(box) || ![box.x, box.y, box.width, box.height].every(finite)) return null;
  if (box.width <= 0 || box.height <= 0) return null;
  return { x: box.x, y: box.y, width: box.width, height: box.height };
}

function person(entry) {
  return {
    score: finite(entry.score) ? entry.score : null,
    box: cleanBox(entry.box),
    keypoints: Array.isArray(entry.keypoints) ? entry.keypoints.map(cleanPoint) : [],
  };
}

/**
 * Every person of an answer, best first: the entries of `people` that are objects (others are
 * skipped). An answer without `people` (servers before it), or whose `people` holds no object, is
 * one person from its top-level fields when person_detected, else nobody: the monitor counts alike.
 */
export function peopleOf(result) {
  const listed = Array.isArray(result?.people) ? result.people.filter(isObject).map(person) : [];
  if (listed.length) return listed;
  return result?.person_detected ? [person(result)] : [];
}

/** The keypoints that can be drawn (x, y known), as [index, point] pairs. */
export function drawnPoints(keypoints) {
  return keypoints.flatMap((point, index) => (point ? [[index, point]] : []));
}

/** The box the server gave, else the one around the person's drawable keypoints; null when none. */
export function boxOf(someone) {
  if (someone.box) return someone.box;
  const points = drawnPoints(someone.keypoints).map(([, point]) => point);
  if (!points.length) return null;
  const xs = points.map((point) => point.x);
  const ys = points.map((point) => point.y);
  const x = Math.min(...xs);
  const y = Math.min(...ys);
  return { x, y, width: Math.max(...xs) - x, height: Math.max(...ys) - y };
}

function distanceToSegment(px, py, a, b) {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const length = dx * dx + dy * dy;
  const t = length ? Math.max(0, Math.min(1, ((px - a.x) * dx + (py - a.y) * dy) / length)) : 0;
  return Math.hypot(px - (a.x + t * dx), py - (a.y + t * dy));
}

/**
 * The index of the person at (x, y) (image pixels): the nearest skeleton within `reach` pixels,
 * else the smallest box around the point; -1 when none. `limbs`: index pairs into the keypoints.
 */
export function personAt(people, x, y, limbs, reach) {
  let nearest = -1;
  let nearestDistance = reach;
  people.forEach((someone, index) => {
    const points = someone.keypoints;
    const distances = drawnPoints(points).map(([, point]) => Math.hypot(x - point.x, y - point.y));
    for (const [a, b] of limbs) {
      if (points[a] && points[b]) distances.push(distanceToSegment(x, y, points[a], points[b]));
    }
    const closest = Math.min(Infinity, ...distances);
    if (closest <= nearestDistance) {
      nearest = index;
      nearestDistance = closest;
    }
  });
  if (nearest >= 0) return nearest;
  let smallest = -1;
  let smallestArea = Infinity;
  people.forEach((someone, index) => {
    const box = boxOf(someone);
    if (!box || x < box.x || y < box.y || x > box.x + box.width || y > box.y + box.height) return;
    if (box.width * box.height < smallestArea) {
      smallest = index;
      smallestArea = box.width * box.height;
    }
  });
  return smallest;
}
