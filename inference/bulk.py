"""`python -m inference predict`: many photos through the model on every core, without a server.

Results are named by the photo's path under the folder (or glob prefix) it was found in, plus a
suffix: `a/b/photo.jpg` -> `OUT/a/b/photo.jpg.json` and `OUT/a/b/photo.jpg.overlay.jpg`; a photo
named on its own keeps its file name. Each result is written whole or not at all (a temporary
file, then a rename), so a photo with a result is done and a re-run skips it.
"""

from __future__ import annotations

import glob
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from inference.bulk_pool import PhotoResult, PhotoTask, WorkerPool
from inference.codec import DEFAULT_MAX_PEOPLE
from inference.manifest import ModelManifest
from inference.progress import Progress

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# A file with one of these names must be a photo: anything else is reported, not skipped.
PHOTO_SUFFIXES = frozenset({".jpg", ".jpeg", ".jpe", ".jfif", ".png"})
RESULT_SUFFIX = ".json"
OVERLAY_SUFFIX = ".overlay.jpg"
ERRORS_FILE = "errors.jsonl"
NOT_A_PHOTO = "not a JPEG or PNG image"
LISTED_FAILURES = 20


class UsageError(Exception):
    """The command line cannot run at all (exit code 2): nothing matched, or --output is unusable."""


@dataclass(frozen=True)
class Photo:
    path: Path
    name: str  # where its results go under --output, a relative POSIX path


@dataclass(frozen=True)
class Failure:
    photo: str
    reason: str


@dataclass(frozen=True)
class BulkOptions:
    inputs: tuple[str, ...]
    model_dir: Path
    output: Path | None = None  # None: print each answer on stdout, in input order
    workers: int = 1
    overlay: bool = False
    force: bool = False
    max_people: int = DEFAULT_MAX_PEOPLE  # the most people an answer lists, as the server's POSE_MAX_PEOPLE


@dataclass
class Summary:
    photos: int = 0
    done: int = 0
    skipped: int = 0
    people: int = 0
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0
    workers: int = 0  # worker processes started
    interrupted: bool = False
    errors_file: Path | None = None

    @property
    def exit_code(self) -> int:
        return 130 if self.interrupted else 1 if self.failures else 0


@dataclass
class Inputs:
    photos: list[Photo] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)


def find_photos(arguments: Sequence[str], output: Path | None = None) -> Inputs:
    """Photos (JPEG or PNG by their first bytes) in files, folders (recursively) and globs.

    A file named on the command line, or named like a photo, that is not one is a failure; other
    files in folders are ignored, as are hidden ones and the --output folder.
    """
    found = Inputs()
    skip_dir = output.resolve() if output else None
    unmatched: list[str] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            if skip_dir and path.resolve() == skip_dir:
                raise UsageError(f"--output {output} is the folder being read; write the results elsewhere")
            _walk(path, path, skip_dir, found)
        elif path.exists():
            _add(path, path.name, explicit=True, found=found)
        elif glob.has_magic(argument) and (matches := sorted(glob.glob(argument, recursive=True))):
            base = _glob_base(argument)
            for match in (match for match in map(Path, matches) if not _inside(match, skip_dir)):
                if match.is_dir():
                    _walk(match, base, skip_dir, found)
                else:
                    _add(match, match.relative_to(base).as_posix(), explicit=False, found=found)
        else:
            unmatched.append(argument)
    if not found.photos and not found.failures:
        raise UsageError(f"no JPEG or PNG photos in {', '.join(arguments)}")
    found.failures += [Failure(argument, "no such file, folder or match") for argument in unmatched]
    return _without_clashes(found)


def _walk(folder: Path, base: Path, skip_dir: Path | None, found: Inputs) -> None:
    def unreadable(error: OSError) -> None:
        found.failures.append(Failure(str(error.filename), f"cannot read the folder: {error.strerror}"))

    for root, dirs, files in os.walk(folder, onerror=unreadable):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not _inside(Path(root, d), skip_dir))
        for name in sorted(files):
            if not name.startswith("."):
                path = Path(root, name)
                _add(path, path.relative_to(base).as_posix(), explicit=False, found=found)


def _add(path: Path, name: str, explicit: bool, found: Inputs) -> None:
    try:
        with path.open("rb") as photo:
            head = photo.read(len(PNG_MAGIC))
    except OSError as error:
        found.failures.append(Failure(str(path), f"cannot read the file: {error.strerror}"))
        return
    if head.startswith(JPEG_MAGIC) or head.startswith(PNG_MAGIC):
        found.photos.append(Photo(path, name))
    elif explicit or path.suffix.lower() in PHOTO_SUFFIXES:
        found.failures.append(
            Failure(str(path), NOT_A_PHOTO if head else f"{NOT_A_PHOTO} (the file is empty)")
        )


def _glob_base(pattern: str) -> Path:
    """The folder a glob's matches are named under: its leading parts without wildcards."""
    parts = Path(pattern).parts
    plain = [part for part in parts[: next(i for i, p in enumerate(parts) if glob.has_magic(p))]]
    return Path(*plain) if plain else Path(".")


def _inside(path: Path, folder: Path | None) -> bool:
    return folder is not None and path.resolve().is_relative_to(folder)


def _without_clashes(found: Inputs) -> Inputs:
    """One photo per file, and per result name (the first wins; a later one is a failure)."""
    by_file: set[Path] = set()
    by_name: dict[str, Photo] = {}
    kept = Inputs(failures=list(found.failures))
    for photo in found.photos:
        if (resolved := photo.path.resolve()) in by_file:
            continue
        by_file.add(resolved)
        if (first := by_name.get(photo.name)) is not None:
            reason = f"its result name {photo.name} is also {first.path}'s; run them into separate --output folders"
            kept.failures.append(Failure(str(photo.path), reason))
            continue
        by_name[photo.name] = photo
        kept.photos.append(photo)
    return kept


class ResultFolder:
    """--output: `NAME.json` (+ `NAME.overlay.jpg`) per photo, and this run's `errors.jsonl`."""

    def __init__(self, folder: Path, overlay: bool) -> None:
        self.folder = folder
        self.overlay = overlay
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as error:
            raise UsageError(f"--output {folder} is not a writable folder ({error.strerror})") from error
        self.errors_file = folder / ERRORS_FILE
        self.errors_file.unlink(missing_ok=True)  # it lists the failures of the latest run only

    def has(self, photo: Photo) -> bool:
        return all(path.is_file() for path in self._paths(photo))

    def done(self, photo: Photo, result: PhotoResult) -> None:
        result_path, *overlay_path = self._paths(photo)
        result_path.parent.mkdir(parents=True, exist_ok=True)
        if overlay_path and result.overlay is not None:
            _write_atomically(overlay_path[0], result.overlay)
        # The JSON last: a result present means its overlay is too.
        _write_atomically(result_path, (json.dumps(result.document) + "\n").encode())

    def failed(self, failure: Failure, index: int | None = None) -> None:
        with self.errors_file.open("a", encoding="utf-8") as errors:
            errors.write(json.dumps({"photo": failure.photo, "error": failure.reason}) + "\n")

    def _paths(self, photo: Photo) -> list[Path]:
        paths = [self.folder / (photo.name + RESULT_SUFFIX)]
        return [*paths, self.folder / (photo.name + OVERLAY_SUFFIX)] if self.overlay else paths


def _write_atomically(path: Path, content: bytes) -> None:
    """Write beside the target then rename over it, so the target is whole or absent, even on Ctrl-C."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as part:
            part.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class AnswerPrinter:
    """No --output: each photo's answer (or `{"error": ...}`) on stdout, one line each, in input order."""

    def __init__(self, photos: Sequence[Photo], stdout: TextIO) -> None:
        self.stdout = stdout
        self.indent = 2 if len(photos) == 1 else None
        self._answers: dict[int, dict] = {}
        self._next = 0

    def done(self, photo: Photo, result: PhotoResult) -> None:
        self._answer(result.index, result.document)

    def failed(self, failure: Failure, index: int | None = None) -> None:
        if index is not None:  # a file that never reached the model has no place in the order
            self._answer(index, {"error": failure.reason})

    def _answer(self, index: int, document: dict) -> None:
        self._answers[index] = document
        while self._next in self._answers:
            print(json.dumps(self._answers.pop(self._next), indent=self.indent), file=self.stdout, flush=True)
            self._next += 1


class _Run:
    """One run's bookkeeping: where answers go, the progress display and the summary's counts."""

    def __init__(self, sink: ResultFolder | AnswerPrinter, progress: Progress, summary: Summary) -> None:
        self.sink = sink
        self.progress = progress
        self.summary = summary

    def done(self, photo: Photo, result: PhotoResult) -> None:
        if result.error is not None:
            self.failed(Failure(str(photo.path), result.error), result.index)
            return
        try:
            self.sink.done(photo, result)
        except OSError as error:  # a full disk or a name the file system refuses: this photo fails
            self.failed(Failure(str(photo.path), f"cannot write its result: {error.strerror}"), result.index)
            return
        document = result.document
        people = len(document.get("people") or []) or int(bool(document.get("person_detected")))
        self.summary.done += 1
        self.summary.people += people
        self.progress.advance(photo.name, _count(people, "person", "people"))

    def failed(self, failure: Failure, index: int | None = None) -> None:
        """A photo that failed: `index` is its place among the photos run, None for one never run."""
        self.summary.failures.append(failure)
        self.sink.failed(failure, index)
        if index is None:
            self.progress.note(f"{failure.photo}: failed: {failure.reason}")
        else:
            self.progress.advance(failure.photo, f"failed: {failure.reason}", failed=True)


def run(options: BulkOptions, stdout: TextIO = sys.stdout, stderr: TextIO = sys.stderr) -> Summary:
    """Every photo of `options.inputs` once; the summary says what happened (see Summary.exit_code)."""
    ModelManifest.read(options.model_dir)  # a bad model directory stops here, before any worker
    found = find_photos(options.inputs, options.output)
    folder = ResultFolder(options.output, options.overlay) if options.output else None
    todo = [photo for photo in found.photos if options.force or not (folder and folder.has(photo))]
    summary = Summary(photos=len(found.photos) + len(found.failures), skipped=len(found.photos) - len(todo))
    summary.workers = min(options.workers, len(todo))
    progress = Progress(len(todo), stderr)
    bulk = _Run(folder or AnswerPrinter(todo, stdout), progress, summary)
    started = time.monotonic()
    try:
        for failure in found.failures:
            bulk.failed(failure)
        if todo:
            tasks = (PhotoTask(index, str(photo.path), options.overlay) for index, photo in enumerate(todo))
            with WorkerPool(options.model_dir, summary.workers, options.max_people) as pool:
                progress.start()  # the rate and ETA count from here, not from loading models
                for result in pool.results(tasks):
                    bulk.done(todo[result.index], result)
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        progress.close()
    summary.seconds = time.monotonic() - started
    summary.errors_file = folder.errors_file if folder and summary.failures else None
    return summary


def summary_lines(summary: Summary) -> Iterator[str]:
    """The run's last words: counts and time, then each failure with its reason."""
    rate = summary.done / summary.seconds if summary.seconds else 0.0
    state = "interrupted after" if summary.interrupted else "finished in"
    yield (
        f"{_count(summary.photos, 'photo')}: {summary.done} done, {summary.skipped} skipped (result already "
        f"there), {len(summary.failures)} failed; {_count(summary.people, 'person', 'people')} found; "
        f"{state} {summary.seconds:.1f} s ({rate:.1f} photos/s, {_count(summary.workers, 'worker')})"
    )
    if summary.failures:
        where = f" (also in {summary.errors_file})" if summary.errors_file else ""
        yield f"failed{where}:"
        # errors.jsonl holds them all; a screenful is enough here.
        shown = summary.failures[:LISTED_FAILURES] if summary.errors_file else summary.failures
        yield from (f"  {failure.photo}: {failure.reason}" for failure in shown)
        if len(shown) < len(summary.failures):
            yield f"  ... and {len(summary.failures) - len(shown)} more"


def _count(number: int, one: str, many: str = "") -> str:
    return f"{number} {one if number == 1 else many or one + 's'}"
