// The pose API: POST the photo, get the pose back, or an error worth showing a person.

export const TIMEOUT_MS = 45000;

// What a person reads for each status: what happened, then what to do.
const STATUS_MESSAGES = {
  400: ["The server could not read this photo", "Try another photo."],
  403: ["The API refused the request", ""],
  404: ["The API address was not found", ""],
  413: ["The photo is too large for the API", "Try a smaller photo."],
  415: ["The API does not accept this file type", "Try a JPEG or PNG photo."],
  429: ["Too many requests right now", "Wait a moment and try again."],
  500: ["The API failed while handling the photo", "Try again."],
  502: ["The model server is unreachable", "Try again in a moment."],
  503: ["The model is not ready yet", "Try again in a moment."],
  504: ["The model took too long to answer", "Try again."],
};

export class ApiError extends Error {
  constructor(message, { status = 0, detail = "", kind = "http", models = null } = {}) {
    super(message);
    this.status = status;
    this.detail = detail;
    this.kind = kind;
    this.models = models; // the models the endpoint serves, when it refused the one asked for
  }
}

/** The 400 for a model the endpoint does not serve lists the ones it does: {"error", "models": [...]}. */
function servedModels(document) {
  const listed = Array.isArray(document?.models) ? document.models : [];
  const names = listed.filter((name) => typeof name === "string" && name.length > 0);
  return names.length ? names : null;
}

function hostOf(url) {
  try {
    return new URL(url, window.location.href).host;
  } catch {
    return url;
  }
}

/**
 * POST `blob` (image/jpeg) to `apiUrl`, as given: it may be on another origin (CORS).
 * Resolves to { result, roundTripMs }; rejects with an ApiError, or an AbortError when `signal` aborts.
 */
export async function predict(apiUrl, blob, { signal } = {}) {
  // Bytes rather than the Blob itself: the same upload, and visible to devtools and test tools.
  const body = await blob.arrayBuffer();
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  signal?.addEventListener("abort", onAbort, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, TIMEOUT_MS);

  const started = performance.now();
  try {
    let response;
    try {
      response = await fetch(apiUrl, {
        method: "POST",
        headers: { "Content-Type": blob.type || "image/jpeg", Accept: "application/json" },
        body,
        mode: "cors",
        credentials: "omit",
        cache: "no-store",
        signal: controller.signal,
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      if (timedOut) {
        throw new ApiError(`The API did not answer within ${TIMEOUT_MS / 1000} s. Try again.`, { kind: "timeout" });
      }
      throw new ApiError(
        `Cannot reach the pose API at ${hostOf(apiUrl)}. Check your connection, or whether the service is running, and try again.`,
        { kind: "network", detail: String(error?.message || error) },
      );
    }
    const text = await response.text();
    const roundTripMs = performance.now() - started;
    let document = null;
    try {
      document = JSON.parse(text);
    } catch {
      document = null;
    }
    if (!response.ok) {
      const detail = String(
        document?.error ?? document?.message ?? (text.trim().slice(0, 200) || response.statusText || "no details"),
      );
      const models = response.status === 400 ? servedModels(document) : null;
      if (models) {
        const message = `The API does not serve the model asked for (HTTP 400): ${detail.replace(/[.\s]+$/, "")}. `
          + `Choose one of: ${models.join(", ")}.`;
        throw new ApiError(message, { status: 400, detail, kind: "model", models });
      }
      const [title, advice] = STATUS_MESSAGES[response.status]
        ?? [response.status >= 500 ? "The API failed" : "The API rejected the photo", "Try again."];
      const message = `${title} (HTTP ${response.status}): ${detail.replace(/[.\s]+$/, "")}. ${advice}`.trim();
      throw new ApiError(message, { status: response.status, detail });
    }
    if (!document || !Array.isArray(document.keypoints) || !document.image) {
      throw new ApiError(`The API answered HTTP ${response.status} but not with a pose.`, {
        status: response.status,
        kind: "shape",
      });
    }
    return { result: document, roundTripMs };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}
