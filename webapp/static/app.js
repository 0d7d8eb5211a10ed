// The page: pick, drop, paste or snap a photo -> shrink it -> POST it -> draw the pose and list it.

import { ApiError, predict } from "./api.js";
import { LOW_SCORE, drawPhoto, drawSkeleton, prettyName } from "./pose.js";
import { PhotoError, decodePhoto, looksLikeImage, shrinkToJpeg, sizeOf } from "./photo.js";

const $ = (id) => document.getElementById(id);
const ui = {
  input: $("image-input"),
  dropZone: $("drop-zone"),
  cameraButton: $("camera-button"),
  cameraPanel: $("camera-panel"),
  cameraVideo: $("camera-video"),
  cameraShoot: $("camera-shoot"),
  cameraCancel: $("camera-cancel"),
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
};
const apiUrl = document.body.dataset.apiUrl || "/predict";

let current = null; // the AbortController of the photo being analysed
let cameraStream = null;

// ------------------------------------------------------------------ status and results

function setStatus(state, message) {
  ui.status.dataset.state = state;
  ui.status.textContent = message;
}

function setResultsState(state) {
  ui.results.dataset.state = state;
  ui.results.setAttribute("aria-busy", state === "busy" ? "true" : "false");
}

function formatMs(value) {
  if (typeof value !== "number" || !Number.isFinite(value)) return "–";
  return value < 10 ? `${value.toFixed(1)} ms` : `${Math.round(value)} ms`;
}

function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function clearResults() {
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
  const rows = keypoints.map((point) => {
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
  const confident = keypoints.filter((point) => point.score >= LOW_SCORE).length;
  ui.kpCount.textContent = `${confident} of ${keypoints.length} confident`;
  ui.kpEmpty.hidden = true;
}

// ------------------------------------------------------------------ the flow

async function analyse(blob, label) {
  current?.abort();
  const controller = new AbortController();
  current = controller;
  stopCamera();
  clearResults();

  if (blob.size === 0) {
    return fail(`“${label}” is empty. Choose a photo.`);
  }
  if (!looksLikeImage(blob)) {
    const kind = blob.type ? ` (${blob.type})` : "";
    return fail(`“${label}” is not an image${kind}. Choose a photo: JPEG, PNG or WebP.`);
  }

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
  if (controller.signal.aborted) return;

  // Show the photo right away; the skeleton follows when the API answers.
  const original = sizeOf(source);
  const ratio = Math.max(1, Math.min(window.devicePixelRatio || 1, 2, original.width / upload.width));
  ui.canvas.width = Math.round(upload.width * ratio);
  ui.canvas.height = Math.round(upload.height * ratio);
  ui.canvas.style.aspectRatio = `${upload.width} / ${upload.height}`;
  ui.canvas.setAttribute("aria-label", "Your photo, waiting for the pose");
  drawPhoto(ui.canvas, source);
  ui.uploadMeta.textContent = `Sent ${upload.width} × ${upload.height} JPEG · ${formatBytes(upload.blob.size)}`
    + (original.width !== upload.width ? ` (from ${original.width} × ${original.height})` : "");
  setStatus("busy", `Finding the pose… (uploading ${formatBytes(upload.blob.size)})`);

  let answer;
  try {
    answer = await predict(apiUrl, upload.blob, { signal: controller.signal });
  } catch (error) {
    if (controller.signal.aborted) return;
    setResultsState("shown");
    return fail(error instanceof ApiError ? error.message : `Something went wrong: ${error}`, true);
  } finally {
    source.close?.();
  }
  if (controller.signal.aborted) return;

  const { result, roundTripMs } = answer;
  setResultsState("shown");
  showTimings(result, roundTripMs);
  if (result.model?.name) {
    const version = result.model.version ? ` (${result.model.version})` : "";
    ui.modelMeta.textContent = `Model ${result.model.name}${version}`;
  }

  if (!result.person_detected) {
    ui.canvas.setAttribute("aria-label", "Your photo: no person found");
    ui.kpEmpty.textContent = "No person, so no keypoints.";
    setStatus("warn", "No person found in this photo. Try one where a person is clearly visible, ideally full length.");
    return;
  }
  drawSkeleton(ui.canvas, result.keypoints, result.image.width, result.image.height);
  ui.canvas.setAttribute("aria-label", `Your photo with the detected skeleton: ${result.keypoints.length} keypoints`);
  showKeypoints(result.keypoints);
  const confident = result.keypoints.filter((point) => point.score >= LOW_SCORE).length;
  const score = typeof result.score === "number" ? ` (score ${result.score.toFixed(2)})` : "";
  setStatus("ok", `Person found${score}: ${confident} of ${result.keypoints.length} keypoints are confident.`);
}

function fail(message, keepPhoto = false) {
  if (!keepPhoto) setResultsState("empty");
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

// ------------------------------------------------------------------ webcam snapshot

function stopCamera() {
  cameraStream?.getTracks().forEach((track) => track.stop());
  cameraStream = null;
  ui.cameraVideo.srcObject = null;
  ui.cameraPanel.hidden = true;
  delete document.body.dataset.camera;
}

async function setUpCamera() {
  const media = navigator.mediaDevices;
  if (!media || typeof media.getUserMedia !== "function" || !window.isSecureContext) return;
  try {
    const devices = await media.enumerateDevices();
    if (!devices.some((device) => device.kind === "videoinput")) return;
  } catch {
    return;
  }
  ui.cameraButton.hidden = false;
}

ui.cameraButton.addEventListener("click", async () => {
  try {
    cameraStream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: "user", width: { ideal: 1280 }, height: { ideal: 960 } },
      audio: false,
    });
  } catch (error) {
    const denied = error?.name === "NotAllowedError" || error?.name === "SecurityError";
    if (!denied) ui.cameraButton.hidden = true;
    setStatus("error", denied
      ? "Camera access was not allowed. Allow it in the browser's site settings, or choose a photo instead."
      : "No camera is available. Choose a photo instead.");
    return;
  }
  ui.cameraVideo.srcObject = cameraStream;
  ui.cameraPanel.hidden = false;
  document.body.dataset.camera = "on";
  await ui.cameraVideo.play().catch(() => {});
  ui.cameraShoot.focus();
  setStatus("idle", "Camera on. Press Capture when ready.");
});

ui.cameraShoot.addEventListener("click", async () => {
  const video = ui.cameraVideo;
  if (!video.videoWidth) return;
  const frame = document.createElement("canvas");
  frame.width = video.videoWidth;
  frame.height = video.videoHeight;
  frame.getContext("2d").drawImage(video, 0, 0);
  stopCamera();
  const blob = await new Promise((resolve) => frame.toBlob(resolve, "image/jpeg", 0.92));
  ui.dropZone.focus();
  if (blob) analyse(blob, "the snapshot");
});

ui.cameraCancel.addEventListener("click", () => {
  stopCamera();
  setStatus("idle", "Choose a photo to begin.");
  ui.cameraButton.focus();
});

setUpCamera();
setResultsState("empty");
document.body.dataset.ready = "true";
