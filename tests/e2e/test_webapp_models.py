"""The page on an endpoint serving several models (issue 20), in real Chromium: the picker, `?model=`,
the side-by-side comparison, the 400 for a model the endpoint does not serve; and the single-model
page unchanged. The site and its API are played by routes: the API is a fake that honours `?model=`
as the API Lambda does (proxy/handler.py), so these tests need no model server.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright

from tests.e2e.test_webapp import CHROMIUM, PERSON_CENTRES, STATUS, _answer, _launch, _person, _require
from webapp.render import STATIC, render_index

SITE = "https://pose-demo.s3.example"
API = "https://api.example/predict?max_people=3"  # a parameter of its own, kept beside ?model=
SERVED = ("blazepose-heavy", "blazepose-lite", "movenet-lightning")  # default first
# What the fake API answers per model: its people (by centre) and inference time.
ANSWERS = {
    "blazepose-heavy": (PERSON_CENTRES[:1], 45.0),
    "blazepose-lite": (PERSON_CENTRES, 12.5),
    "movenet-lightning": (PERSON_CENTRES[1:2], 6.0),
}
PICKER = "[data-testid=model-picker]"
PANELS = "[data-testid=compare-panel]"


class FakeApi:
    """POST /predict?model=...: the model's answer, its name in `model`; an unknown model is the API's 400."""

    def __init__(self, served: tuple[str, ...] = SERVED) -> None:
        self.served = served
        self.requests: list[str] = []

    def __call__(self, route: Route) -> None:
        request = route.request
        if request.method != "POST":
            route.fulfill(status=204, headers=self._cors())
            return
        self.requests.append(request.url)
        model = parse_qs(urlsplit(request.url).query).get("model", [self.served[0]])[0]
        if model not in self.served:
            error = f"unknown model '{model}'; this endpoint serves: {', '.join(self.served)}"
            self._json(route, 400, {"error": error, "models": list(self.served), "request_id": "r-1"})
            return
        centres, inference_ms = ANSWERS[model]
        people = [_person(centre, 0.95 - 0.1 * rank) for rank, centre in enumerate(centres)]
        document = _answer(
            people,
            model={"name": model, "family": model.split("-")[0], "version": "test"},
            timing={"decode_ms": 1.0, "inference_ms": inference_ms, "total_ms": inference_ms + 2},
            keypoints=people[0]["keypoints"],
            score=people[0]["score"],
        )
        self._json(route, 200, document)

    def models_asked(self) -> list[str | None]:
        return [parse_qs(urlsplit(url).query).get("model", [None])[0] for url in self.requests]

    @staticmethod
    def _cors() -> dict[str, str]:
        return {"access-control-allow-origin": "*", "access-control-allow-headers": "content-type, accept"}

    def _json(self, route: Route, status: int, document: dict) -> None:
        route.fulfill(
            status=status, content_type="application/json", body=json.dumps(document), headers=self._cors()
        )


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    _require(CHROMIUM, "apt-get install chromium (Debian's; never `playwright install`)")
    with sync_playwright() as playwright, _launch(playwright) as browser:
        yield browser


@pytest.fixture
def grey_photo(tmp_path: Path) -> Path:
    path = tmp_path / "grey.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (640, 425), (128, 128, 128)).save(buffer, "JPEG", quality=95)
    path.write_bytes(buffer.getvalue())
    return path


def open_site(
    browser: Browser,
    models: tuple[str, ...],
    api: FakeApi,
    default: str = SERVED[0],
    viewport: dict | None = None,
) -> Page:
    """The page as S3 serves it, rendered for `models`, its API the fake; fails on any script error."""
    context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.route(
        f"{SITE}/",
        lambda route: route.fulfill(content_type="text/html", body=render_index(API, default, models=models)),
    )
    page.route(
        f"{SITE}/static/*", lambda route: route.fulfill(path=STATIC / route.request.url.rsplit("/", 1)[1])
    )
    page.route("https://api.example/**", api)
    page.goto(f"{SITE}/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.errors = errors  # checked by each test's end
    return page


def close(page: Page) -> None:
    errors = page.errors
    page.context.close()
    assert errors == [], errors


def test_one_model_no_picker_and_the_api_url_as_given(browser: Browser, grey_photo: Path):
    api = FakeApi()
    page = open_site(browser, ("blazepose-heavy",), api)
    try:
        expect(page.locator(PICKER)).to_have_count(0)
        expect(page.locator("#comparison")).to_have_count(0)
        page.set_input_files("[data-testid=image-input]", grey_photo)
        expect(page.locator(STATUS)).to_have_text(
            "Person found (score 0.95): 17 of 17 keypoints are confident."
        )
        assert api.requests == [API]  # no ?model=: the single-model page asks exactly as it always did
        expect(page.get_by_test_id("model-meta")).to_have_text("Model blazepose-heavy (test)")
    finally:
        close(page)


def test_the_picker_sends_model_and_says_which_model_answered(browser: Browser, grey_photo: Path):
    api = FakeApi()
    page = open_site(browser, SERVED, api, default="blazepose-lite")
    try:
        select = page.get_by_label("Model", exact=True)
        expect(select).to_have_value("blazepose-lite")  # the default is model.name, wherever it is listed
        expect(select.locator("option")).to_have_text(
            ["blazepose-heavy (default)", "blazepose-lite", "movenet-lightning"]
        )
        expect(page.get_by_test_id("model-name")).to_have_text("blazepose-lite")
        page.set_input_files("[data-testid=image-input]", grey_photo)
        expect(page.locator(STATUS)).to_contain_text("3 people found.")
        expect(page.get_by_test_id("model-meta")).to_have_text("Model blazepose-lite (test)")
        # Another model: the same photo again, to it.
        select.select_option("movenet-lightning")
        expect(page.locator(STATUS)).to_have_text(re.compile("^Person found"))
        expect(page.get_by_test_id("model-meta")).to_have_text("Model movenet-lightning (test)")
        expect(page.get_by_test_id("timing-inference")).to_have_text("6.0 ms")
        expect(page.get_by_test_id("model-name")).to_have_text("movenet-lightning")
        assert api.models_asked() == ["blazepose-lite", "movenet-lightning"]
        assert all(parse_qs(urlsplit(url).query)["max_people"] == ["3"] for url in api.requests)
    finally:
        close(page)


def test_two_models_side_by_side_each_with_its_timing_and_people(browser: Browser, grey_photo: Path):
    api = FakeApi()
    page = open_site(browser, SERVED, api)
    try:
        page.get_by_test_id("compare-toggle").check()
        second = page.get_by_label("Second model")
        expect(second).to_be_enabled()
        expect(second).to_have_value("blazepose-lite")  # another model than the first, to begin with
        page.set_input_files("[data-testid=image-input]", grey_photo)
        expect(page.locator(STATUS)).to_have_text(
            "Compared: blazepose-heavy found 1 person; blazepose-lite found 3 people."
        )
        assert sorted(api.models_asked()) == ["blazepose-heavy", "blazepose-lite"]
        panels = page.locator(PANELS)
        expect(panels.get_by_test_id("compare-model")).to_have_text(["blazepose-heavy", "blazepose-lite"])
        expect(panels.get_by_test_id("compare-answered")).to_have_text(
            ["answered by blazepose-heavy", "answered by blazepose-lite"]
        )
        expect(panels.get_by_test_id("compare-inference")).to_have_text(["45 ms", "13 ms"])
        expect(panels.nth(0).locator("[data-testid=compare-people] li")).to_have_text(["Person 1 (0.95)"])
        expect(panels.nth(1).locator("[data-testid=compare-people] li")).to_have_text(
            ["Person 1 (0.95)", "Person 2 (0.85)", "Person 3 (0.75)"]
        )
        expect(page.locator("#results")).to_be_hidden()
        # Each canvas drew its own model's people: the third person's hip is painted only by the lite model.
        hip = _person(PERSON_CENTRES[2], 0.9)["keypoints"][11]
        painted = page.evaluate(
            """([x, y]) => Array.from(document.querySelectorAll("[data-testid=compare-canvas]"), (canvas) => {
                const scale = canvas.width / 640;
                const [r, g, b] = canvas.getContext("2d").getImageData(Math.round(x * scale), Math.round(y * scale), 1, 1).data;
                return Math.max(Math.abs(r - 128), Math.abs(g - 128), Math.abs(b - 128)) > 40;
            })""",
            [hip["x"], hip["y"]],
        )
        assert painted == [False, True]
        # Back to one model: the result section again, with the first model's answer.
        page.get_by_test_id("compare-toggle").uncheck()
        expect(page.locator("#comparison")).to_be_hidden()
        expect(page.get_by_test_id("model-meta")).to_have_text("Model blazepose-heavy (test)")
    finally:
        close(page)


def test_the_picker_works_from_the_keyboard(browser: Browser, grey_photo: Path):
    api = FakeApi()
    page = open_site(browser, SERVED, api)
    try:
        page.set_input_files("[data-testid=image-input]", grey_photo)
        expect(page.get_by_test_id("model-meta")).to_have_text("Model blazepose-heavy (test)")
        page.locator("body").focus()
        select = page.get_by_test_id("model-select")
        for _ in range(8):
            page.keyboard.press("Tab")
            if select.evaluate("element => element === document.activeElement"):
                break
        expect(select).to_be_focused()
        expect(select).to_have_accessible_name("Model")
        page.keyboard.press("ArrowDown")
        expect(select).to_have_value("blazepose-lite")
        expect(page.get_by_test_id("model-meta")).to_have_text("Model blazepose-lite (test)")
        page.keyboard.press("Tab")
        toggle = page.get_by_test_id("compare-toggle")
        expect(toggle).to_be_focused()
        expect(toggle).to_have_accessible_name("Compare side by side with")
        page.keyboard.press("Space")
        expect(toggle).to_be_checked()
        expect(page.locator(STATUS)).to_have_text(
            re.compile("^Compared: blazepose-lite found 3 people; blazepose-heavy")
        )
        page.keyboard.press("Tab")
        expect(page.get_by_test_id("compare-select")).to_be_focused()
    finally:
        close(page)


def test_a_model_the_endpoint_does_not_serve_is_a_clear_message(browser: Browser, grey_photo: Path):
    """The page lists a model the endpoint no longer serves: the API's 400 is shown, and the picker then
    offers what the API listed."""
    api = FakeApi()
    page = open_site(browser, ("blazepose-heavy", "blazepose-full"), api)
    try:
        page.get_by_label("Model", exact=True).select_option("blazepose-full")
        page.set_input_files("[data-testid=image-input]", grey_photo)
        expect(page.locator(STATUS)).to_have_attribute("data-state", "error")
        expect(page.locator(STATUS)).to_have_text(
            "The API does not serve the model asked for (HTTP 400): unknown model 'blazepose-full'; this "
            "endpoint serves: blazepose-heavy, blazepose-lite, movenet-lightning. Choose one of: "
            "blazepose-heavy, blazepose-lite, movenet-lightning."
        )
        select = page.get_by_test_id("model-select")
        expect(select.locator("option")).to_have_text(
            ["blazepose-heavy (default)", "blazepose-lite", "movenet-lightning"]
        )
        expect(select).to_have_value("blazepose-heavy")
        # In a comparison, the one refused fails on its own; the other is shown.
        page.get_by_test_id("compare-toggle").check()
        expect(page.locator(STATUS)).to_have_text(
            "Compared: blazepose-heavy found 1 person; blazepose-lite found 3 people."
        )
    finally:
        close(page)


def test_one_panel_failing_leaves_the_other(browser: Browser, grey_photo: Path):
    api = FakeApi(served=("blazepose-heavy", "blazepose-lite"))
    page = open_site(browser, SERVED, api)
    try:
        page.get_by_test_id("compare-toggle").check()
        page.get_by_label("Second model").select_option("movenet-lightning")
        page.set_input_files("[data-testid=image-input]", grey_photo)
        expect(page.locator(STATUS)).to_have_text(
            "Compared: blazepose-heavy found 1 person; movenet-lightning failed."
        )
        expect(page.locator(STATUS)).to_have_attribute("data-state", "warn")
        panels = page.locator(PANELS)
        expect(panels.get_by_test_id("compare-status")).to_have_text(
            ["1 person found.", re.compile(r"^The API does not serve the model asked for \(HTTP 400\)")]
        )
        expect(panels.nth(1).get_by_test_id("compare-status")).to_have_attribute("data-state", "error")
    finally:
        close(page)


def test_a_file_that_is_no_photo_clears_the_comparison(browser: Browser, grey_photo: Path, tmp_path: Path):
    api = FakeApi()
    page = open_site(browser, SERVED, api)
    try:
        page.get_by_test_id("compare-toggle").check()
        page.set_input_files("[data-testid=image-input]", grey_photo)
        expect(page.locator("#comparison")).to_be_visible()
        notes = tmp_path / "notes.txt"
        notes.write_text("not a photo")
        page.set_input_files("[data-testid=image-input]", notes)
        expect(page.locator(STATUS)).to_contain_text("“notes.txt” is not an image")
        expect(page.locator("#comparison")).to_be_hidden()
        assert len(api.requests) == 2
    finally:
        close(page)


@pytest.mark.parametrize(
    ("name", "viewport"),
    [("phone", {"width": 390, "height": 844}), ("desktop", {"width": 1366, "height": 900})],
)
def test_the_comparison_fits_the_screen(
    browser: Browser, grey_photo: Path, tmp_path: Path, name: str, viewport: dict
):
    """Stacked on a phone, side by side on a desktop, never scrolling sideways; screenshots into
    $WEBAPP_SHOTS_DIR when set."""
    page = open_site(browser, SERVED, FakeApi(), viewport=viewport)
    try:
        page.get_by_test_id("compare-toggle").check()
        page.set_input_files("[data-testid=image-input]", grey_photo)
        expect(page.locator(STATUS)).to_have_attribute("data-state", "ok")
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        first, second = (page.locator(PANELS).nth(index).bounding_box() for index in range(2))
        for box in (first, second):
            assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
        if name == "phone":
            assert second["y"] >= first["y"] + first["height"]
        else:
            assert second["y"] == first["y"] and second["x"] >= first["x"] + first["width"]
        for control in ("model-select", "compare-toggle", "compare-select"):
            box = page.get_by_test_id(control).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
        shots = Path(os.environ.get("WEBAPP_SHOTS_DIR") or tmp_path)
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=shots / f"compare-{name}.png", full_page=True)
    finally:
        close(page)


def test_the_page_lists_each_model_once_escaped_and_selects_the_default():
    models = ("blazepose-heavy", "blazepose-lite", "blazepose-heavy", '<b>"odd"</b>')
    page = render_index(API, "blazepose-lite", models=models)
    options = re.findall(r'<option value="([^"]*)"( selected)?>', page[: page.index('id="compare-select"')])
    assert options == [
        ("blazepose-heavy", ""),
        ("blazepose-lite", " selected"),
        ("&lt;b&gt;&#34;odd&#34;&lt;/b&gt;", ""),
    ]
    assert "<b>" not in page
    # A default not among them: the first (the endpoint's default) is selected.
    assert '<option value="blazepose-heavy" selected>' in render_index(
        API, "movenet-lightning", models=SERVED
    )
    single = render_index(API, "blazepose-heavy")
    assert render_index(API, "blazepose-heavy", models=("blazepose-heavy",)) == single
    assert "model-select" not in single and "comparison" not in single


def test_no_inline_script_on_either_page():
    """Only the module script runs: nothing inline, no on* handlers (a Content-Security-Policy may forbid them)."""
    for page in (render_index(API, "blazepose-heavy"), render_index(API, "blazepose-heavy", models=SERVED)):
        assert re.findall(r"<script([^>]*)>(.*?)</script>", page, re.DOTALL) == [
            (' type="module" src="static/app.js"', "")
        ]
        assert not re.search(r"<[^>]*\son[a-z]+\s*=", page)
