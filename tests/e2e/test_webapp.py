"""The web page in a real browser (Debian's Chromium via Playwright) against the running local stack.

`python -m deployment local` serves the page, its static files and POST /predict on 127.0.0.1; the
browser picks, drops or snaps photos as a person would. Waits are Playwright's auto-waiting
expectations, never sleeps.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import EVAL_DIR, STRICT, local_stack, require
from webapp.render import STATIC, render_index

if not STRICT:  # under STRICT_TESTS=1 (.ci/run) a missing Playwright fails the run
    pytest.importorskip("playwright.sync_api", reason="pip install -r requirements-dev.txt")
from playwright.sync_api import Browser, Page, Playwright, Route, expect, sync_playwright

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
FAKE_CAMERA_ARGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
START_DEADLINE_SECONDS = 60.0
PHOTO = EVAL_DIR / "000000000785.jpg"  # 640x425, one standing person
COCO_NAMES = (
    "Nose",
    "Left eye",
    "Right eye",
    "Left ear",
    "Right ear",
    "Left shoulder",
    "Right shoulder",
    "Left elbow",
    "Right elbow",
    "Left wrist",
    "Right wrist",
    "Left hip",
    "Right hip",
    "Left knee",
    "Right knee",
    "Left ankle",
    "Right ankle",
)
STATUS = "[data-testid=status]"
ROWS = "[data-testid=keypoint-table] tbody tr"
CANVAS = "[data-testid=pose-canvas]"
CLOUD_API = "https://abc.execute-api.us-east-1.amazonaws.com/predict"
# The status once the real model has found someone: the server may list several people in a photo.
FOUND = re.compile(r"^(Person found|\d+ people found)")
# A drawn joint changes its centre pixel by far more than JPEG re-encoding changes any pixel.
DRAWN = 60
UNTOUCHED = 25


def _require(path: Path, what: str) -> Path:
    return require(path, what)


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, blazepose_dir: Path) -> Iterator[str]:
    """`python -m deployment local` on a free port; yields its base URL once the model answers /ping."""
    _require(PHOTO, "the shared eval photos")
    state = tmp_path_factory.mktemp("local-stack")
    with local_stack(
        state, "local.monitor_interval_seconds=3600", start_seconds=START_DEADLINE_SECONDS
    ) as base:
        yield base


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    _require(CHROMIUM, "apt-get install chromium (Debian's; never `playwright install`)")
    with sync_playwright() as playwright:
        yield playwright


@contextmanager
def _launch(playwright: Playwright, extra_args: tuple[str, ...] = ()) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=[*CHROMIUM_ARGS, *extra_args]
    )
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    with _launch(playwright) as browser:
        yield browser


@pytest.fixture
def page(browser: Browser, stack: str) -> Iterator[Page]:
    """A fresh page on the stack's web page; fails the test on any uncaught script error."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{stack}/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    yield page
    context.close()
    assert errors == [], errors


# ---------------------------------------------------------------- helpers


def _jpeg(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _pixel_differences(page: Page, reference: bytes, points: list[tuple[float, float]]) -> list[int]:
    """Per point (pixels of `reference`), the largest channel difference between the pose canvas and
    `reference` drawn alone on a canvas of the same size: 0 where nothing was drawn over the photo."""
    return page.evaluate(
        """async ({reference, points, selector}) => {
            const bytes = Uint8Array.from(atob(reference), (c) => c.charCodeAt(0));
            const bitmap = await createImageBitmap(new Blob([bytes], {type: "image/jpeg"}));
            const canvas = document.querySelector(selector);
            const plain = document.createElement("canvas");
            plain.width = canvas.width;
            plain.height = canvas.height;
            plain.getContext("2d").drawImage(bitmap, 0, 0, plain.width, plain.height);
            const scale = canvas.width / bitmap.width;
            const drawn = canvas.getContext("2d");
            const clean = plain.getContext("2d");
            return points.map(([x, y]) => {
                const px = Math.round(x * scale), py = Math.round(y * scale);
                const a = drawn.getImageData(px, py, 1, 1).data;
                const b = clean.getImageData(px, py, 1, 1).data;
                return Math.max(...[0, 1, 2].map((i) => Math.abs(a[i] - b[i])));
            });
        }""",
        {"reference": base64.b64encode(reference).decode(), "points": points, "selector": CANVAS},
    )


def _far_from(
    keypoints: list[dict], width: int, height: int, margin: float = 30
) -> list[tuple[float, float]]:
    """Grid points outside the keypoints' bounding box (limbs join keypoints, so they stay inside it)."""
    xs = [point["x"] for point in keypoints]
    ys = [point["y"] for point in keypoints]
    left, right, top, bottom = min(xs) - margin, max(xs) + margin, min(ys) - margin, max(ys) + margin
    grid = [(x, y) for x in range(8, width - 8, 24) for y in range(8, height - 8, 24)]
    return [(x, y) for x, y in grid if not (left <= x <= right and top <= y <= bottom)]


def _drawn_extent(result: dict) -> list[dict]:
    """Points bounding all the page draws for an answer: every person's keypoints, box and numbered tag."""
    points = [point for person in result.get("people") or [result] for point in person["keypoints"]]
    for box in (person.get("box") for person in result.get("people", [])):
        if not box:
            continue
        points.append({"x": box["x"], "y": box["y"] - 40})  # the tag sits on the box's top edge
        points.append({"x": box["x"] + box["width"], "y": box["y"] + box["height"]})
    return points


def _fulfil_json(status: int, document: dict):
    def handler(route: Route) -> None:
        route.fulfill(status=status, content_type="application/json", body=json.dumps(document))

    return handler


# ---------------------------------------------------------------- a real photo, the real model


def test_a_photo_gets_its_skeleton_drawn_17_keypoints_listed_and_timings_shown(page: Page):
    with page.expect_response("**/predict") as answer:
        page.set_input_files("[data-testid=image-input]", PHOTO)
    result = answer.value.json()
    uploaded = answer.value.request.post_data_buffer
    assert answer.value.status == 200 and result["person_detected"]

    expect(page.locator(STATUS)).to_have_text(FOUND)
    expect(page.locator(STATUS)).to_have_attribute("data-state", "ok")
    rows = page.locator(ROWS)
    expect(rows).to_have_count(17)
    # A keypoint under pose.js's LOW_SCORE (0.3) is tagged "low" beside its name.
    tagged = [
        f"{name} low" if point["score"] < 0.3 else name
        for name, point in zip(COCO_NAMES, result["keypoints"], strict=True)
    ]
    expect(rows.locator("th")).to_have_text(tagged)
    nose = result["keypoints"][0]
    expect(rows.nth(0).locator("td").nth(0)).to_have_text(f"{nose['x']:.1f}")
    expect(rows.nth(0).locator("td").nth(1)).to_have_text(f"{nose['y']:.1f}")
    for testid in ("timing-inference", "timing-server", "timing-roundtrip"):
        expect(page.get_by_test_id(testid)).to_have_text(re.compile(r"^\d+(\.\d)? ms$"))
    inference = float(page.get_by_test_id("timing-inference").inner_text().removesuffix(" ms"))
    assert abs(inference - result["timing"]["inference_ms"]) <= max(1.0, 0.01 * inference)

    # The canvas is the uploaded photo, untouched away from the person, and painted on the joints.
    width, height = result["image"]["width"], result["image"]["height"]
    assert Image.open(io.BytesIO(uploaded)).size == (width, height)
    confident = [(p["x"], p["y"]) for p in result["keypoints"] if p["score"] >= 0.5]
    assert len(confident) >= 10
    on_joints = _pixel_differences(page, uploaded, confident)
    assert sum(d >= DRAWN for d in on_joints) >= 0.8 * len(confident), on_joints
    background = _far_from(_drawn_extent(result), width, height)
    assert len(background) >= 20
    elsewhere = sorted(_pixel_differences(page, uploaded, background))
    # JPEG re-encoding noise only (the canvas may show the photo before its re-encoding): no strokes.
    assert elsewhere[-1] < DRAWN and elsewhere[int(0.95 * len(elsewhere))] <= UNTOUCHED, elsewhere[-5:]


def test_a_photo_without_a_person_says_so(page: Page, tmp_path: Path):
    grey = tmp_path / "grey.jpg"
    grey.write_bytes(_jpeg(Image.new("RGB", (640, 480), (128, 128, 128))))
    with page.expect_response("**/predict") as answer:
        page.set_input_files("[data-testid=image-input]", grey)
    assert answer.value.status == 200 and answer.value.json()["person_detected"] is False
    expect(page.locator(STATUS)).to_contain_text("No person found")
    expect(page.locator(STATUS)).to_have_attribute("data-state", "warn")
    expect(page.get_by_test_id("timing-inference")).to_contain_text("ms")
    expect(page.locator(ROWS)).to_have_count(0)


def test_a_large_photo_is_shrunk_to_640_px_before_upload(page: Page, tmp_path: Path):
    big = tmp_path / "big.jpg"
    big.write_bytes(_jpeg(Image.open(PHOTO).convert("RGB").resize((4000, 3000), Image.LANCZOS), quality=95))
    assert big.stat().st_size > 1_000_000
    with page.expect_request("**/predict") as sent:
        page.set_input_files("[data-testid=image-input]", big)
    request = sent.value
    body = request.post_data_buffer
    assert request.method == "POST" and request.headers["content-type"] == "image/jpeg"
    assert len(body) <= 150_000, len(body)
    assert Image.open(io.BytesIO(body)).size == (640, 480)  # longest side 640, aspect kept
    expect(page.locator(STATUS)).to_have_text(FOUND)
    expect(page.locator(ROWS)).to_have_count(17)
    expect(page.get_by_test_id("upload-meta")).to_contain_text("from 4000 × 3000")


def test_a_dropped_photo_is_analysed(page: Page):
    page.evaluate(
        """(data) => {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], "dropped.jpg", {type: "image/jpeg"}));
            const zone = document.querySelector("[data-testid=drop-zone]");
            for (const type of ["dragenter", "dragover", "drop"]) {
                zone.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true, cancelable: true}));
            }
        }""",
        base64.b64encode(PHOTO.read_bytes()).decode(),
    )
    expect(page.locator(STATUS)).to_have_text(FOUND)
    expect(page.locator(ROWS)).to_have_count(17)


# ---------------------------------------------------------------- files the browser refuses


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.txt", b"shopping: milk, eggs\n", "is not an image"),
        ("broken.jpg", b"\xff\xd8\xff\xe0 this is no JPEG at all" * 20, "could not be read as an image"),
    ],
)
def test_a_file_that_is_not_a_photo_is_refused_in_the_browser(
    page: Page, tmp_path: Path, name: str, content: bytes, message: str
):
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url) if "/predict" in request.url else None)
    path = tmp_path / name
    path.write_bytes(content)
    page.set_input_files("[data-testid=image-input]", path)
    expect(page.locator(STATUS)).to_contain_text(message)
    expect(page.locator(STATUS)).to_contain_text(name)
    expect(page.locator(STATUS)).to_have_attribute("data-state", "error")
    expect(page.locator(ROWS)).to_have_count(0)
    assert sent == []


# ---------------------------------------------------------------- the API failing


@pytest.mark.parametrize(
    ("status", "error", "title"),
    [
        (503, "the model is still loading", "not ready"),
        (400, "the body is not a JPEG or PNG image", "could not read"),
        (413, "the body is 7,000,000 bytes; the limit is 6,291,456 (6 MB)", "too large"),
    ],
)
def test_an_api_error_shows_its_status_and_message(page: Page, status: int, error: str, title: str):
    page.route("**/predict", _fulfil_json(status, {"error": error}))
    page.set_input_files("[data-testid=image-input]", PHOTO)
    expect(page.locator(STATUS)).to_contain_text(f"HTTP {status}")
    expect(page.locator(STATUS)).to_contain_text(error)
    expect(page.locator(STATUS)).to_contain_text(title)
    expect(page.locator(STATUS)).to_have_attribute("data-state", "error")
    expect(page.locator(ROWS)).to_have_count(0)


def test_an_unreachable_api_says_so(page: Page):
    page.route("**/predict", lambda route: route.abort("connectionrefused"))
    page.set_input_files("[data-testid=image-input]", PHOTO)
    expect(page.locator(STATUS)).to_contain_text("Cannot reach the pose API")
    expect(page.locator(STATUS)).to_have_attribute("data-state", "error")
    expect(page.locator(ROWS)).to_have_count(0)


def test_low_confidence_points_are_drawn_hollow_and_flagged(page: Page):
    positions = [
        (320, 60), (335, 50), (305, 50), (355, 58), (285, 58), (380, 120), (260, 120), (420, 190),
        (220, 190), (450, 260), (190, 260), (360, 250), (280, 250), (370, 330), (270, 330), (375, 400),
        (265, 400),
    ]  # fmt: skip
    low = {9, 16}  # left wrist, right ankle
    keypoints = [
        {"name": name.lower().replace(" ", "_"), "x": x, "y": y, "score": 0.1 if i in low else 0.95}
        for i, (name, (x, y)) in enumerate(zip(COCO_NAMES, positions, strict=True))
    ]
    document = {
        "model": {"name": "blazepose-full", "family": "blazepose", "version": "test"},
        "image": {"width": 640, "height": 425},
        "person_detected": True,
        "score": 0.9,
        "keypoints": keypoints,
        "timing": {"decode_ms": 1.0, "inference_ms": 12.5, "total_ms": 14.0},
    }
    page.route("**/predict", _fulfil_json(200, document))
    page.set_input_files("[data-testid=image-input]", PHOTO)
    expect(page.locator(STATUS)).to_contain_text("15 of 17 keypoints")
    expect(page.locator(f"{ROWS}.is-low")).to_have_count(2)
    expect(page.locator(f"{ROWS}.is-low th")).to_have_text(
        [re.compile("Left wrist.*low"), re.compile("Right ankle.*low")]
    )

    photo = PHOTO.read_bytes()
    confident = [positions[i] for i in range(17) if i not in low]
    assert min(_pixel_differences(page, photo, confident)) >= DRAWN
    assert max(_pixel_differences(page, photo, [positions[i] for i in low])) <= UNTOUCHED  # hollow
    for i in low:  # ...but a ring is drawn around them: something changes a few pixels out, all around
        x, y = positions[i]
        directions = [(1, 0), (-1, 0), (0, 1), (0, -1), (0.7, 0.7), (-0.7, 0.7), (0.7, -0.7), (-0.7, -0.7)]
        around = []
        for dx, dy in directions:
            near = _pixel_differences(page, photo, [(x + r * dx, y + r * dy) for r in range(3, 9)])
            around.append(max(near))
        assert sum(d >= DRAWN for d in around) >= 6, around


# ---------------------------------------------------------------- keyboard, offline, layouts


def test_the_picker_is_reachable_by_keyboard_and_opens_the_file_chooser(page: Page):
    # Playwright turns file-chooser interception on without waiting for it: a listener from the start
    # keeps it on, so the key presses below cannot race it.
    page.on("filechooser", lambda chooser: None)
    zone = page.get_by_test_id("drop-zone")
    for _ in range(8):
        page.keyboard.press("Tab")
        if zone.evaluate("element => element === document.activeElement"):
            break
    expect(zone).to_be_focused()
    expect(zone).to_have_accessible_name(re.compile("choose a photo", re.IGNORECASE))
    expect(page.get_by_label("Photo file")).to_have_attribute("data-testid", "image-input")
    expect(page.locator(STATUS)).to_have_attribute("aria-live", "polite")
    for key in ("Enter", "Space"):
        with page.expect_file_chooser() as chooser:
            page.keyboard.press(key)
        assert not chooser.value.is_multiple()
        with page.expect_response("**/predict"):
            chooser.value.set_files(PHOTO)  # the same file twice: still analysed each time
        expect(page.locator(STATUS)).to_have_text(FOUND)
        expect(zone).to_be_focused()


def test_the_page_works_offline_and_links_the_local_monitoring(browser: Browser, stack: str):
    context = browser.new_context()
    try:
        page = context.new_page()
        requests: list[str] = []
        failed: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        page.on("response", lambda response: failed.append(response.url) if response.status >= 400 else None)
        page.goto(f"{stack}/")
        page.set_input_files("[data-testid=image-input]", PHOTO)
        expect(page.locator(STATUS)).to_have_text(FOUND)
        assert all(url.startswith(f"{stack}/") for url in requests), requests
        assert {"/", "/static/app.js", "/static/style.css", "/predict"} <= {
            url.removeprefix(stack) for url in requests
        }
        assert failed == []
        expect(page).to_have_title(re.compile("blazepose-heavy"))
        link = page.get_by_role("link", name="Monitoring")
        expect(link).to_have_attribute("href", "/monitoring")
        assert page.request.get(f"{stack}/monitoring").status == 200
        expect(page.get_by_test_id("camera-button")).to_be_hidden()  # this browser has no camera
    finally:
        context.close()


@pytest.mark.parametrize(
    ("name", "viewport"),
    [("phone", {"width": 390, "height": 844}), ("desktop", {"width": 1366, "height": 900})],
)
def test_the_layout_fits_the_screen(browser: Browser, stack: str, tmp_path: Path, name: str, viewport: dict):
    """No sideways scrolling on a phone, the photo as wide as its card; screenshots for a person to look at
    (into $WEBAPP_SHOTS_DIR when set)."""
    context = browser.new_context(viewport=viewport, device_scale_factor=2 if name == "phone" else 1)
    try:
        page = context.new_page()
        page.goto(f"{stack}/")
        page.set_input_files("[data-testid=image-input]", PHOTO)
        expect(page.locator(STATUS)).to_have_text(FOUND)
        expect(page.locator(ROWS)).to_have_count(17)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        canvas = page.locator(CANVAS).bounding_box()
        stage = page.locator(".stage").bounding_box()
        assert canvas["x"] >= 0 and canvas["x"] + canvas["width"] <= viewport["width"]
        assert canvas["width"] >= 0.85 * stage["width"]
        shots = Path(os.environ.get("WEBAPP_SHOTS_DIR") or tmp_path)
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=shots / f"{name}.png", full_page=True)
    finally:
        context.close()


def test_a_webcam_snapshot_is_analysed(playwright: Playwright, stack: str):
    with _launch(playwright, FAKE_CAMERA_ARGS) as camera_browser:
        page = camera_browser.new_page()
        page.goto(f"{stack}/")
        camera = page.get_by_test_id("camera-button")
        expect(camera).to_be_visible()
        camera.click()
        capture = page.get_by_role("button", name="Capture")
        expect(capture).to_be_visible()
        expect(page.locator("#camera-video")).to_have_js_property("readyState", 4)
        with page.expect_response("**/predict") as answer:
            capture.click()
        assert answer.value.status == 200
        width, height = Image.open(io.BytesIO(answer.value.request.post_data_buffer)).size
        assert max(width, height) <= 640
        # Chromium's fake camera films a test pattern: a result, with or without a "person" in it.
        expect(page.locator(STATUS)).to_have_attribute("data-state", re.compile("^(ok|warn)$"))
        expect(page.locator("#camera-panel")).to_be_hidden()


# ---------------------------------------------------------------- the page as the cloud serves it


def test_the_cloud_page_carries_the_api_url_and_escapes_the_model_name():
    page = render_index(CLOUD_API, "movenet-lightning")
    assert f'data-api-url="{CLOUD_API}"' in page
    assert "movenet-lightning" in page
    assert '<script type="module" src="static/app.js"></script>' in page
    assert "/monitoring" not in page  # no such page in the cloud
    hostile = render_index('https://x.example/predict?a="b"', "<script>alert(1)</script>")
    assert "<script>alert(1)" not in hostile and "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile
    assert 'data-api-url="https://x.example/predict?a=&#34;b&#34;"' in hostile


def test_the_cloud_page_posts_to_its_api_on_another_origin(browser: Browser, stack: str):
    """The static files on one origin (S3), the API on another (API Gateway): the page must use the URL
    it was given, with CORS. Both origins are played by routes; the API route forwards to the stack."""
    site = "https://pose-demo.s3.example"
    context = browser.new_context()
    try:
        page = context.new_page()
        page.route(
            f"{site}/",
            lambda route: route.fulfill(
                content_type="text/html", body=render_index(CLOUD_API, "blazepose-full")
            ),
        )
        page.route(
            f"{site}/static/*",
            lambda route: route.fulfill(path=STATIC / route.request.url.rsplit("/", 1)[1]),
        )
        origins: list[str] = []

        def api(route: Route) -> None:
            origins.append(route.request.headers.get("origin", ""))
            upstream = route.fetch(url=f"{stack}/predict")
            route.fulfill(response=upstream, headers={**upstream.headers, "access-control-allow-origin": "*"})

        page.route(CLOUD_API, api)
        page.goto(f"{site}/")
        expect(page.get_by_role("link", name="Monitoring")).to_have_count(0)
        with page.expect_request(CLOUD_API):
            page.set_input_files("[data-testid=image-input]", PHOTO)
        expect(page.locator(STATUS)).to_have_text(FOUND)
        expect(page.locator(ROWS)).to_have_count(17)
        assert origins == [site]
    finally:
        context.close()


def test_the_page_and_its_static_files_reference_nothing_outside():
    files = [*STATIC.iterdir(), STATIC.parent / "templates" / "index.html"]
    assert {"app.js", "style.css", "index.html"} <= {path.name for path in files}
    for path in files:
        text = path.read_text().replace('xmlns="http://www.w3.org/2000/svg"', "")  # a name, not a fetch
        assert not re.search(r"https?:|//[a-z0-9-]+\.[a-z]", text), path.name


# ---------------------------------------------------------------- several people

PERSON_CENTRES = (110, 320, 530)  # x of each synthetic person on a 640 x 425 photo
LEFT_HIP = 11
POSE = [
    (320, 60), (335, 50), (305, 50), (355, 58), (285, 58), (380, 120), (260, 120), (420, 190),
    (220, 190), (450, 260), (190, 260), (360, 250), (280, 250), (370, 330), (270, 330), (375, 400),
    (265, 400),
]  # fmt: skip
PEOPLE_LIST = "[data-testid=people-list]"
# A joint's centre pixel: the selected person's colour itself, the others' faded over the grey photo.
SELECTED = 6
FADED = 15


def _person(centre: float, score: float) -> dict:
    """A standing person around x = centre, as the server lists one in `people`."""
    keypoints = [
        {"name": name.lower().replace(" ", "_"), "x": centre + (x - 320) * 0.4, "y": y, "score": 0.95}
        for name, (x, y) in zip(COCO_NAMES, POSE, strict=True)
    ]
    box = {"x": centre - 70.0, "y": 35.0, "width": 140.0, "height": 380.0}
    return {"score": score, "box": box, "keypoints": keypoints}


def _answer(people: list | None = None, **top: object) -> dict:
    """A 200 answer: top-level fields from the best person, plus `people` unless None (an older server)."""
    best = _person(PERSON_CENTRES[0], 0.97)
    document = {
        "model": {"name": "blazepose-full", "family": "blazepose", "version": "test"},
        "image": {"width": 640, "height": 425},
        "person_detected": True,
        "score": best["score"],
        "keypoints": best["keypoints"],
        "timing": {"decode_ms": 1.0, "inference_ms": 12.5, "total_ms": 14.0},
        **top,
    }
    if people is not None:
        document["people"] = people
    return document


THREE_PEOPLE = [
    _person(centre, score) for centre, score in zip(PERSON_CENTRES, (0.97, 0.87, 0.62), strict=True)
]


@pytest.fixture
def grey_photo(tmp_path: Path) -> Path:
    """A flat grey 640 x 425 photo: whatever colour a pixel has on the canvas, the drawing gave it."""
    path = tmp_path / "grey.jpg"
    path.write_bytes(_jpeg(Image.new("RGB", (640, 425), (128, 128, 128)), quality=95))
    return path


def _canvas_colours(page: Page, points: list[tuple[float, float]]) -> list[tuple[int, int, int]]:
    """RGB of the pose canvas at each point given in pixels of the (640 px wide) answer's image."""
    return [
        tuple(colour)
        for colour in page.evaluate(
            """({points, selector}) => {
                const canvas = document.querySelector(selector);
                const scale = canvas.width / 640;
                const context = canvas.getContext("2d");
                return points.map(([x, y]) => Array.from(
                    context.getImageData(Math.round(x * scale), Math.round(y * scale), 1, 1).data.slice(0, 3)));
            }""",
            {"points": points, "selector": CANVAS},
        )
    ]


def _hex(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


def _distance(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    return sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) ** 0.5


def _hips(people: list[dict]) -> list[tuple[float, float]]:
    return [(person["keypoints"][LEFT_HIP]["x"], person["keypoints"][LEFT_HIP]["y"]) for person in people]


def _show(page: Page, photo: Path, document: dict) -> None:
    page.route("**/predict", _fulfil_json(200, document))
    page.set_input_files("[data-testid=image-input]", photo)
    expect(page.locator(STATUS)).to_have_attribute("data-state", re.compile("^(ok|warn)$"))


def test_every_person_is_drawn_in_a_colour_of_their_own(page: Page, grey_photo: Path):
    _show(page, grey_photo, _answer(THREE_PEOPLE))
    buttons = page.locator(f"{PEOPLE_LIST} button")
    expect(buttons).to_have_text(["Person 1 (0.97)", "Person 2 (0.87)", "Person 3 (0.62)"])
    assert [buttons.nth(i).get_attribute("aria-pressed") for i in range(3)] == ["true", "false", "false"]
    expect(page.locator(STATUS)).to_contain_text("3 people found. Person 1 (0.97): 17 of 17 keypoints")
    colours = [_hex(buttons.nth(i).get_attribute("data-color")) for i in range(3)]
    assert len(set(colours)) == 3
    drawn = _canvas_colours(page, _hips(THREE_PEOPLE))
    for person, pixel in enumerate(drawn):  # each joint is nearest its own person's colour
        nearest = min(range(3), key=lambda other, pixel=pixel: _distance(pixel, colours[other]))
        assert nearest == person, (drawn, colours)
    assert _distance(drawn[0], colours[0]) <= SELECTED  # the selected person at full strength
    assert all(
        _distance(pixel, colours[i]) >= FADED for i, pixel in enumerate(drawn) if i
    )  # the others faded
    # The keypoint table is the selected (best) person's.
    expect(page.locator(ROWS)).to_have_count(17)
    expect(page.locator(ROWS).nth(0).locator("td").nth(0)).to_have_text(
        f"{THREE_PEOPLE[0]['keypoints'][0]['x']:.1f}"
    )
    expect(page.get_by_test_id("keypoint-person")).to_have_text(" · Person 1")


def test_clicking_a_person_or_using_the_keyboard_selects_them(page: Page, grey_photo: Path):
    _show(page, grey_photo, _answer(THREE_PEOPLE))
    buttons = page.locator(f"{PEOPLE_LIST} button")
    colours = [_hex(buttons.nth(i).get_attribute("data-color")) for i in range(3)]
    hips = _hips(THREE_PEOPLE)
    before = _canvas_colours(page, hips)

    def assert_selected(index: int) -> None:
        pressed = ["true" if i == index else "false" for i in range(3)]
        for i in range(3):
            expect(buttons.nth(i)).to_have_attribute("aria-pressed", pressed[i])
        nose_x = THREE_PEOPLE[index]["keypoints"][0]["x"]
        expect(page.locator(ROWS).nth(0).locator("td").nth(0)).to_have_text(f"{nose_x:.1f}")
        expect(page.get_by_test_id("keypoint-person")).to_have_text(f" · Person {index + 1}")
        expect(page.locator(STATUS)).to_contain_text(f"Person {index + 1} (")
        drawn = _canvas_colours(page, hips)
        assert _distance(drawn[index], colours[index]) <= SELECTED, drawn
        assert all(_distance(drawn[i], colours[i]) >= FADED for i in range(3) if i != index), drawn

    # A click on person 3's hip, in page coordinates: the canvas shows the 640 px image scaled.
    frame = page.locator(CANVAS).bounding_box()
    scale = frame["width"] / 640
    page.mouse.click(frame["x"] + hips[2][0] * scale, frame["y"] + hips[2][1] * scale)
    assert_selected(2)
    assert _canvas_colours(page, hips)[0] != before[0]  # person 1 faded when no longer selected
    # A click inside person 2's box but away from the skeleton selects them too; one on no one changes nothing.
    box = THREE_PEOPLE[1]["box"]
    page.mouse.click(frame["x"] + (box["x"] + 8) * scale, frame["y"] + (box["y"] + box["height"] - 8) * scale)
    assert_selected(1)
    page.mouse.click(frame["x"] + 215 * scale, frame["y"] + 20 * scale)
    assert_selected(1)

    # Keyboard: Tab reaches the person buttons; Space presses one; the arrow keys move the selection.
    page.locator("body").focus()
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement?.dataset?.person !== undefined"):
            break
    expect(buttons.nth(0)).to_be_focused()
    page.keyboard.press("Space")
    assert_selected(0)
    page.keyboard.press("ArrowLeft")
    assert_selected(2)
    expect(buttons.nth(2)).to_be_focused()
    page.keyboard.press("ArrowRight")
    assert_selected(0)


def test_an_answer_without_people_draws_exactly_as_one_listing_its_best_person(page: Page, grey_photo: Path):
    """Servers before `people` answered with the top-level fields only: one person, drawn as always."""
    _show(page, grey_photo, _answer(None))
    expect(page.locator(STATUS)).to_have_text("Person found (score 0.97): 17 of 17 keypoints are confident.")
    expect(page.locator(ROWS)).to_have_count(17)
    expect(page.locator(PEOPLE_LIST)).to_be_hidden()
    expect(page.get_by_text("left side")).to_be_visible()
    expect(page.get_by_text("selected person: bold, boxed")).to_be_hidden()
    old = page.locator(CANVAS).evaluate("canvas => canvas.toDataURL()")
    _show(page, grey_photo, _answer([THREE_PEOPLE[0]]))
    expect(page.locator(STATUS)).to_have_text("Person found (score 0.97): 17 of 17 keypoints are confident.")
    expect(page.locator(PEOPLE_LIST)).to_be_hidden()
    assert page.locator(CANVAS).evaluate("canvas => canvas.toDataURL()") == old


@pytest.mark.parametrize(
    ("people", "top", "buttons", "rows", "status"),
    [
        (  # entries that are not objects are skipped; odd fields of an object are dropped one by one
            [
                None,
                3,
                "x",
                [],
                {
                    "score": "high",
                    "box": {"x": "a"},
                    "keypoints": [None, {"x": "1"}, 5, {"name": "nose", "x": 100.0, "y": 90.0, "score": 0.9}],
                },
                THREE_PEOPLE[1],
            ],
            {},
            ["Person 1", "Person 2 (0.87)"],
            1,
            "2 people found. Person 1: 1 of 1 keypoints",
        ),
        ("two people", {}, [], 17, "Person found (score 0.97)"),  # not a list: the top-level person
        ([None, 7], {}, [], 17, "Person found (score 0.97)"),  # no object in it: likewise
        ([], {"person_detected": False}, [], 0, "No person found"),
        (
            [{"keypoints": "none", "box": {"x": 1, "y": 2, "width": -5, "height": 9}}, {"keypoints": {}}],
            {"image": {"width": "wide"}},  # the photo's own size then
            ["Person 1", "Person 2"],
            0,
            "2 people found. Person 1: 0 of 0 keypoints",
        ),
    ],
)
def test_malformed_people_are_skipped_without_breaking_the_page(
    page: Page, grey_photo: Path, people, top: dict, buttons: list[str], rows: int, status: str
):
    _show(page, grey_photo, _answer(people, **top))
    expect(page.locator(STATUS)).to_contain_text(status)
    expect(page.locator(f"{PEOPLE_LIST} button")).to_have_text(buttons)
    expect(page.locator(ROWS)).to_have_count(rows)
    if len(buttons) > 1:  # every person can still be selected
        page.locator(f"{PEOPLE_LIST} button").nth(1).click()
        expect(page.get_by_test_id("keypoint-person")).to_have_text(" · Person 2")
    # The page fixture fails the test on any script error.


@pytest.mark.parametrize(
    ("name", "viewport"),
    [("phone", {"width": 390, "height": 844}), ("desktop", {"width": 1366, "height": 900})],
)
def test_several_people_fit_the_screen(
    browser: Browser, stack: str, grey_photo: Path, tmp_path: Path, name: str, viewport: dict
):
    """The person buttons wrap rather than scroll sideways; screenshots into $WEBAPP_SHOTS_DIR when set."""
    context = browser.new_context(viewport=viewport, device_scale_factor=2 if name == "phone" else 1)
    try:
        page = context.new_page()
        page.goto(f"{stack}/")
        _show(page, grey_photo, _answer([*THREE_PEOPLE, _person(420, 0.41), _person(220, 0.33)]))
        buttons = page.locator(f"{PEOPLE_LIST} button")
        expect(buttons).to_have_count(5)
        buttons.nth(1).click()
        expect(page.get_by_test_id("keypoint-person")).to_have_text(" · Person 2")
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        for index in range(5):
            box = buttons.nth(index).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"] and box["height"] >= 44
        shots = Path(os.environ.get("WEBAPP_SHOTS_DIR") or tmp_path)
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=shots / f"people-{name}.png", full_page=True)
    finally:
        context.close()


def test_a_real_group_photo_shows_whoever_the_server_found(page: Page):
    """The real model on a photo of four people: the page shows the people of the server's answer (one,
    from the top-level fields, when the server predates `people`), best first, the best one's table."""
    group = _require(EVAL_DIR / "000000196141.jpg", "the shared eval photos")
    with page.expect_response("**/predict") as answer:
        page.set_input_files("[data-testid=image-input]", group)
    result = answer.value.json()
    listed = [entry for entry in result.get("people", []) if isinstance(entry, dict)]
    people = listed or ([result] if result["person_detected"] else [])
    assert people, "the model finds nobody in a photo of four people"
    expect(page.locator(STATUS)).to_have_attribute("data-state", "ok")
    buttons = page.locator(f"{PEOPLE_LIST} button")
    expect(buttons).to_have_count(len(people) if len(people) > 1 else 0)
    if len(people) > 1:
        expect(buttons.first).to_have_text(f"Person 1 ({people[0]['score']:.2f})")
        expect(buttons.first).to_have_attribute("aria-pressed", "true")
    expect(page.locator(ROWS)).to_have_count(17)
    nose = people[0]["keypoints"][0]
    expect(page.locator(ROWS).nth(0).locator("td").nth(0)).to_have_text(f"{nose['x']:.1f}")


def test_the_person_under_a_click_is_the_nearest_skeleton_then_the_smallest_box(page: Page):
    """people.js as the page loads it: a small person standing inside a tall one's box."""
    found = page.evaluate("""async () => {
            const { peopleOf, personAt } = await import("./static/people.js");
            const { LIMBS } = await import("./static/pose.js");
            const body = (x, top, height) => Array.from({ length: 17 }, (_, index) => (
                { name: `point_${index}`, x: x + (index % 2 ? 10 : -10), y: top + (height * index) / 16, score: 0.9 }));
            const people = peopleOf({ people: [
                { score: 0.9, box: { x: 100, y: 0, width: 300, height: 400 }, keypoints: body(150, 20, 360) },
                { score: 0.8, box: { x: 250, y: 200, width: 80, height: 150 }, keypoints: body(290, 210, 130) },
            ] });
            return [
                personAt(people, 150, 200, LIMBS, 12),  // on the tall one's skeleton
                personAt(people, 292, 280, LIMBS, 12),  // on the small one's skeleton, inside both boxes
                personAt(people, 255, 205, LIMBS, 12),  // inside both boxes, near neither: the smaller box
                personAt(people, 380, 50, LIMBS, 12),   // inside the tall one's box only
                personAt(people, 600, 50, LIMBS, 12),   // on nobody
            ];
        }""")
    assert found == [0, 1, 1, 0, -1]
