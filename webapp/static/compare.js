// One photo through two models, side by side: each panel its own photo, skeletons, timing and people.

import { ApiError, predict } from "./api.js";
import { formatMs } from "./format.js";
import { peopleOf, personColor, personName, scoreText } from "./people.js";
import { drawPhoto } from "./pose.js";
import { drawPeople, imageSizeOf, snapshot } from "./scene.js";

const plural = (count) => (count === 1 ? "1 person" : `${count} people`);

function partsOf(panel) {
  const part = (role) => panel.querySelector(`[data-role="${role}"]`);
  return {
    panel,
    model: part("model"),
    answered: part("answered"),
    canvas: part("canvas"),
    status: part("status"),
    inference: part("inference"),
    server: part("server"),
    roundTrip: part("roundtrip"),
    people: part("people"),
  };
}

function setStatus(parts, state, message) {
  parts.status.dataset.state = state;
  parts.status.textContent = message;
}

function personItem(someone, index) {
  const item = document.createElement("li");
  const swatch = document.createElement("i");
  swatch.className = "person-swatch";
  swatch.setAttribute("aria-hidden", "true");
  swatch.style.setProperty("--person-color", personColor(index));
  item.append(swatch, `${personName(index)}${scoreText(someone)}`);
  return item;
}

export class Comparison {
  constructor(root) {
    this.root = root;
    this.sides = Array.from(root.querySelectorAll("[data-testid=compare-panel]"), partsOf);
  }

  show(visible) {
    this.root.hidden = !visible;
  }

  /** Both panels show the photo, at `size` canvas pixels, waiting for their model. */
  prepare(source, size, models) {
    this.sides.forEach((parts, index) => {
      parts.panel.dataset.model = models[index];
      parts.model.textContent = models[index];
      parts.answered.textContent = "";
      parts.canvas.width = size.width;
      parts.canvas.height = size.height;
      parts.canvas.style.aspectRatio = `${size.width} / ${size.height}`;
      parts.canvas.setAttribute("aria-label", `Your photo, waiting for ${models[index]}`);
      drawPhoto(parts.canvas, source);
      for (const cell of [parts.inference, parts.server, parts.roundTrip]) cell.textContent = "–";
      parts.people.replaceChildren();
      setStatus(parts, "busy", `Waiting for ${models[index]}…`);
    });
  }

  /**
   * POST the photo to each URL at once; each panel shows its own answer or error as it arrives.
   * Resolves to one outcome per panel: { model, people } or { model, error }.
   */
  run(urls, upload, signal) {
    return Promise.all(
      this.sides.map(async (parts, index) => {
        const model = parts.panel.dataset.model;
        try {
          const answer = await predict(urls[index], upload.blob, { signal });
          return { model, people: this.showAnswer(parts, answer, upload) };
        } catch (error) {
          if (signal.aborted) return { model, error };
          const message = error instanceof ApiError ? error.message : `Something went wrong: ${error}`;
          setStatus(parts, "error", message);
          return { model, error };
        }
      }),
    );
  }

  showAnswer(parts, { result, roundTripMs }, upload) {
    const requested = parts.panel.dataset.model;
    const timing = result.timing || {};
    parts.inference.textContent = formatMs(timing.inference_ms);
    parts.server.textContent = formatMs(timing.total_ms);
    parts.roundTrip.textContent = formatMs(roundTripMs);
    const answered = result.model?.name;
    parts.answered.textContent = answered ? `answered by ${answered}${answered === requested ? "" : ` (asked for ${requested})`}` : "";
    const people = peopleOf(result);
    if (people.length) {
      drawPeople(parts.canvas, { people, image: imageSizeOf(result, upload), photo: snapshot(parts.canvas), selected: 0 });
    }
    parts.people.replaceChildren(...people.map(personItem));
    parts.canvas.setAttribute("aria-label", people.length
      ? `Your photo with ${plural(people.length)} found by ${requested}`
      : `Your photo: ${requested} found no person`);
    setStatus(parts, people.length ? "ok" : "warn", people.length
      ? `${plural(people.length)} found${people.length > 1 ? "; person 1 is highlighted" : ""}.`
      : "No person found.");
    return people.length;
  }
}

/** The page's status after a comparison: each model's count, or why it failed. */
export function comparisonSummary(outcomes) {
  const parts = outcomes.map(({ model, people, error }) => (error
    ? `${model} failed`
    : `${model} found ${people ? plural(people) : "no person"}`));
  const failed = outcomes.filter((outcome) => outcome.error).length;
  const state = failed === outcomes.length ? "error" : failed ? "warn" : "ok";
  return { state, message: `Compared: ${parts.join("; ")}.` };
}
