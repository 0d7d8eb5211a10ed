// The page: pick, drop, paste or snap a photo -> shrink it -> POST it -> draw every pose, list the selected one.
// On an endpoint serving several models: to the model picked, or to two of them side by side.

import { ApiError, predict } from "./api.js";
import { Camera } from "./camera.js";
import { Comparison, comparisonSummary } from "./compare.js";
import { formatBytes, formatMs } from "./format.js";
import { modelPicker, modelUrl } from "./models.js";
import { peopleOf, personAt, personColor, personName, scoreText } from "./people.js";
import { LIMBS, LOW_SCORE, drawPhoto, prettyName } from "./pose.js";
import { PhotoError, decodePhoto, looksLikeImage, shrinkToJpeg, sizeOf } from "./photo.js";
import { drawPeople, imageSizeOf, snapshot } from "./scene.js";

const $ = (id) => document.getElementById(id);
const ui = {
  input: $("image-input"),
  dropZone: $("drop-zone"),
  status: $("status"),
  results: $("results"),
  canvas: $("pose-canvas"),
  tInference: $("t-inference"),
  tServer: $("t-server"),
  tRoundTrip: $("t-roundtrip"),
  uploadMeta: $("upload-meta"),
  modelMeta: $("model-meta"),
  dropTitle: $("drop-title"),
  kpBody: $("kp-body"),
  kpCount: $("kp-count"),
  kpEmpty: $("kp-empty"),
  kpPerson: $("kp-person"),
  peopleList: $("people-list"),
};
const apiUrl = document.body.dataset.apiUrl || "/predict";
const picker = modelPicker(); // null: one model, the page as it always was
const comparisonRoot = $("comparison");
const comparison = comparisonRoot ? new Comparison(comparisonRoot) : null;
const TAP_REACH_PX = 24; // how far (CSS pixels) from a skeleton a click or tap still selects it

let current = null; // the AbortController of the photo being analysed
// The answer on screen: its people, the selected one, the image size their pixels refer to, and the
// photo alone (a canvas) to redraw them over when the selection changes. Null when nobody is shown.
let shown = null;
let lastPhoto = null; // { blob, label } of the photo analysed last: run again when the model changes

// ------------------------------------------------------------------ status and results

function setStatus(state, message) {
  ui.status.dataset.state = state;
  ui.status.textContent = message;
}

function setResultsState(state) {
  ui.results.dataset.state = state;
  ui.results.setAttribute("aria-busy", state === "busy" ? "true" : "false");
}

function clearResults() {
  shown = null;
  ui.peopleList.replaceChildren();
  ui.peopleList.hidden = true;
  ui.kpPerson.textContent = "";
  delete ui.results.dataset.people;
  delete ui.canvas.dataset.selected;
  ui.kpBody.replaceChildren();
  ui.kpCount.textContent = "";
  ui.kpEmpty.hidden = false;
  ui.kpEmpty.textContent = "No keypoints yet.";
  for (const cell of [ui.tInference, ui.tServer, ui.tRoundTrip]) cell.textContent = "–";
  ui.uploadMeta.textContent = "";
  ui.modelMeta.textContent = "";
}

function showTimings(result, roundTripMs) {
  const timing = result.timing || {};
  ui.tInference.textContent = formatMs(timing.inference_ms);
  ui.tServer.textContent = formatMs(timing.total_ms);
  ui.tRoundTrip.textContent = formatMs(roundTripMs);
}

function showKeypoints(keypoints) {
  const rows = keypoints.filter(Boolean).map((point) => {
    const row = document.createElement("tr");
    const low = point.score < LOW_SCORE;
    if (low) row.classList.add("is-low");

    const name = document.createElement("th");
    name.scope = "row";
    name.textContent = prettyName(point.name);
    if (low) {
      const tag = document.createElement("span");
      tag.className = "tag";
      tag.textContent = "low";
      tag.title = `score below ${LOW_SCORE}`;
      name.append(" ", tag);
    }

    const x = document.createElement("td");
    x.className = "num";
    x.textContent = point.x.toFixed(1);
    const y = document.createElement("td");
    y.className = "num";
    y.textContent = point.y.toFixed(1);

    const score = document.createElement("td");
    score.className = "num score";
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.setAttribute("aria-hidden", "true");
    bar.style.setProperty("--value", String(Math.max(0, Math.min(1, point.score))));
    score.append(bar, document.createTextNode(point.score.toFixed(2)));

    row.append(name, x, y, score);
    return row;
  });
  ui.kpBody.replaceChildren(...rows);
  ui.kpCount.textContent = `${confidentCount(keypoints)} of ${rows.length} confident`;
  ui.kpEmpty.hidden = rows.length > 0;
  ui.kpEmpty.textContent = "No usable keypoints for this person.";
}

function confidentCount(keypoints) {
  return keypoints.filter((point) => point && point.score >= LOW_SCORE).length;
}

// ------------------------------------------------------------------ several people

function showPeople(people, image) {
  shown = { people, image, photo: snapshot(ui.canvas), selected: 0 }; // the photo alone, to redraw over
  ui.results.dataset.people = people.length > 1 ? "several" : "one";
  const buttons = people.length > 1 ? people.map(personButton) : []; // one person: nobody else to choose
  ui.peopleList.replaceChildren(...buttons);
  ui.peopleList.hidden = buttons.length === 0;
  selectPerson(0);
}

function personButton(someone, index) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "person-button";
  button.dataset.person = String(index);
  button.dataset.color = personColor(index);
  button.style.setProperty("--person-color", personColor(index));
  const swatch = document.createElement("i");
  swatch.className = "person-swatch";
  swatch.setAttribute("aria-hidden", "true");
  button.append(swatch, `${personName(index)}${scoreText(someone)}`);
  return button;
}

function selectPerson(index) {
  if (!shown || index < 0 || index >= shown.people.length) return;
  shown.selected = index;
  drawPeople(ui.canvas, shown);
  for (const button of ui.peopleList.children) {
    button.setAttribute("aria-pressed", String(button.dataset.person === String(index)));
  }
  ui.canvas.dataset.selected = String(index);
  const { people } = shown;
  const someone = people[index];
  showKeypoints(someone.keypoints);
  ui.kpPerson.textContent = people.length > 1 ? ` · ${personName(index)}` : "";
  const drawn = someone.keypoints.filter(Boolean).length;
  const confident = confidentCount(someone.keypoints);
  if (people.length > 1) {
    ui.canvas.setAttribute("aria-label",
      `Your photo with ${people.length} detected skeletons; ${personName(index)} is highlighted`);
    setStatus("ok", `${people.length} people found. ${personName(index)}${scoreText(someone)}: `
      + `${confident} of ${drawn} keypoints are confident. `
      + "Select a person on the photo, or with the buttons, to list theirs.");
  } else {
    ui.canvas.setAttribute("aria-label", `Your photo with the detected skeleton: ${drawn} keypoints`);
    const score = someone.score === null ? "" : ` (score ${someone.score.toFixed(2)})`;
    setStatus("ok", `Person found${score}: ${confident} of ${drawn} keypoints are confident.`);
  }
}

/** Where a click lands in the answer's image pixels: the canvas keeps its aspect (object-fit: contain). */
function imagePointOf(event, image) {
  const frame = ui.canvas.getBoundingClientRect();
  const scale = Math.min(frame.width / image.width, frame.height / image.height);
  if (!(scale > 0)) return null;
  const left = frame.left + (frame.width - image.width * scale) / 2;
  const top = frame.top + (frame.height - image.height * scale) / 2;
  return { x: (event.clientX - left) / scale, y: (event.clientY - top) / scale, perPixel: 1 / scale };
}

ui.peopleList.addEventListener("click", (event) => {
  const button = event.target.closest?.("button[data-person]");
  if (button) selectPerson(Number(button.dataset.person));
});

ui.peopleList.addEventListener("keydown", (event) => {
  const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
  if (!step || !shown) return;
  event.preventDefault();
  const count = shown.people.length;
  const index = (shown.selected + step + count) % count;
  selectPerson(index);
  ui.peopleList.children[index]?.focus();
});

ui.canvas.addEventListener("click", (event) => {
  if (!shown || shown.people.length < 2) return;
  const point = imagePointOf(event, shown.image);
  if (!point) return;
  const index = personAt(shown.people, point.x, point.y, LIMBS, TAP_REACH_PX * point.perPixel);
  if (index >= 0) selectPerson(index);
});

// ------------------------------------------------------------------ the flow

async function analyse(blob, label) {
  current?.abort();
  const controller = new AbortController();
  current = controller;
  camera.stop();
  clearResults();

  if (blob.size === 0) {
    return fail(`“${label}” is empty. Choose a photo.`);
  }
  if (!looksLikeImage(blob)) {
    const kind = blob.type ? ` (${blob.type})` : "";
    return fail(`“${label}” is not an image${kind}. Choose a photo: JPEG, PNG or WebP.`);
  }

  lastPhoto = { blob, label };
  setResultsState("busy");
  document.body.dataset.phase = "result";
  ui.dropTitle.textContent = "Choose another photo";
  setStatus("busy", "Reading the photo…");
  let source;
  let upload;
  try {
    source = await decodePhoto(blob);
    upload = await shrinkToJpeg(source);
  } catch (error) {
    if (controller.signal.aborted) return;
    const why = error instanceof PhotoError ? error.message : String(error);
    return fail(`“${label}” could not be read as an image (${why}). It may be damaged or in an unsupported format.`);
  }
  if (controller.signal.aborted) {
    source.close?.();
    return;
  }
  const original = sizeOf(source);
  const ratio = Math.max(1, Math.min(window.devicePixelRatio || 1, 2, original.width / upload.width));
  const size = { width: Math.round(upload.width * ratio), height: Math.round(upload.height * ratio) };
  const sent = `Sent ${upload.width} × ${upload.height} JPEG · ${formatBytes(upload.blob.size)}`
    + (original.width !== upload.width ? ` (from ${original.width} × ${original.height})` : "");
  const pair = picker?.comparing() ? picker.pair() : null;
  showMode(pair);
  if (pair) return compareModels(pair, source, upload, size, controller.signal);
  return predictOne(source, upload, { size, sent }, controller.signal);
}

/** The result section for one model, the comparison for two: never both. */
function showMode(pair) {
  ui.results.hidden = Boolean(pair);
  comparison?.show(Boolean(pair));
}

async function predictOne(source, upload, { size, sent }, signal) {
  // Show the photo right away; the skeleton follows when the API answers.
  ui.canvas.width = size.width;
  ui.canvas.height = size.height;
  ui.canvas.style.aspectRatio = `${upload.width} / ${upload.height}`;
  ui.canvas.setAttribute("aria-label", "Your photo, waiting for the pose");
  drawPhoto(ui.canvas, source);
  ui.uploadMeta.textContent = sent;
  setStatus("busy", `Finding the pose… (uploading ${formatBytes(upload.blob.size)})`);

  let answer;
  try {
    answer = await predict(picker ? modelUrl(apiUrl, picker.selected()) : apiUrl, upload.blob, { signal });
  } catch (error) {
    if (signal.aborted) return;
    setResultsState("shown");
    if (error instanceof ApiError && error.models) picker?.replaceModels(error.models);
    return fail(error instanceof ApiError ? error.message : `Something went wrong: ${error}`, true);
  } finally {
    source.close?.();
  }
  if (signal.aborted) return;
  showAnswer(answer, upload);
}

function showAnswer({ result, roundTripMs }, upload) {
  setResultsState("shown");
  showTimings(result, roundTripMs);
  const answered = result.model?.name;
  if (answered) {
    const version = result.model.version ? ` (${result.model.version})` : "";
    const asked = picker?.selected();
    ui.modelMeta.textContent = `Model ${answered}${version}`
      + (asked && asked !== answered ? `, though ${asked} was asked for` : "");
  }

  const people = peopleOf(result);
  if (!people.length) {
    ui.canvas.setAttribute("aria-label", "Your photo: no person found");
    ui.kpEmpty.textContent = "No person, so no keypoints.";
    setStatus("warn", "No person found in this photo. Try one where a person is clearly visible, ideally full length.");
    return;
  }
  showPeople(people, imageSizeOf(result, upload));
}

async function compareModels(models, source, upload, size, signal) {
  comparison.prepare(source, size, models);
  source.close?.();
  setStatus("busy", `Comparing ${models[0]} and ${models[1]}… (uploading ${formatBytes(upload.blob.size)} to each)`);
  const outcomes = await comparison.run(models.map((model) => modelUrl(apiUrl, model)), upload, signal);
  if (signal.aborted) return;
  const refused = outcomes.find(({ error }) => error instanceof ApiError && error.models);
  if (refused) picker.replaceModels(refused.error.models);
  const { state, message } = comparisonSummary(outcomes);
  setStatus(state, message);
}

function fail(message, keepPhoto = false) {
  if (!keepPhoto) {
    showMode(null); // no photo to compare either
    setResultsState("empty");
  }
  setStatus("error", message);
}

function analyseFiles(files) {
  const file = files && files[0];
  if (file) analyse(file, file.name || "the photo");
}

// ------------------------------------------------------------------ choosing, dropping, pasting

ui.dropZone.addEventListener("click", () => ui.input.click());
ui.input.addEventListener("change", () => {
  analyseFiles(ui.input.files);
  ui.input.value = ""; // so that choosing the same file again still counts
});

let dragDepth = 0;
const hasFiles = (event) => Array.from(event.dataTransfer?.types || []).includes("Files");
document.addEventListener("dragenter", (event) => {
  if (!hasFiles(event)) return;
  event.preventDefault();
  dragDepth += 1;
  document.body.classList.add("is-dragging");
});
document.addEventListener("dragover", (event) => {
  if (!hasFiles(event)) return;
  event.preventDefault(); // allow dropping anywhere, not only on the zone
  event.dataTransfer.dropEffect = "copy";
});
document.addEventListener("dragleave", (event) => {
  if (!hasFiles(event)) return;
  dragDepth = Math.max(0, dragDepth - 1);
  if (dragDepth === 0) document.body.classList.remove("is-dragging");
});
document.addEventListener("drop", (event) => {
  if (!hasFiles(event)) return;
  event.preventDefault();
  dragDepth = 0;
  document.body.classList.remove("is-dragging");
  analyseFiles(event.dataTransfer.files);
});

document.addEventListener("paste", (event) => {
  const item = Array.from(event.clipboardData?.items || []).find((entry) => entry.kind === "file");
  const file = item?.getAsFile();
  if (file) {
    event.preventDefault();
    analyse(file, file.name || "the pasted image");
  }
});

picker?.onChange(() => {
  if (lastPhoto) analyse(lastPhoto.blob, lastPhoto.label); // the same photo, to the model(s) now picked
});

const camera = new Camera({
  button: $("camera-button"),
  panel: $("camera-panel"),
  video: $("camera-video"),
  shoot: $("camera-shoot"),
  cancel: $("camera-cancel"),
}, {
  setStatus,
  onSnapshot(blob) {
    ui.dropZone.focus();
    analyse(blob, "the snapshot");
  },
});

camera.setUp();
setResultsState("empty");
document.body.dataset.ready = "true";
