"""Reading config.yml and `--set` values: any bytes in, a Config or one ConfigError line out, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from deployment.config import Config, load_config
from deployment.config_yaml import MAX_BYTES
from deployment.errors import ConfigError
from tests.conftest import REPO

DEEP = "[" * 500 + "]" * 500


def refusal(tmp_path: Path, content: bytes | str, overrides: tuple[str, ...] = ()) -> str:
    path = tmp_path / "config.yml"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    with pytest.raises(ConfigError) as raised:
        load_config(path, overrides)
    message = str(raised.value)
    assert "\n" not in message and raised.value.exit_code == 2
    return message.removeprefix(f"{path}: ")


# (file content, what the message says)
UNREADABLE = {
    "binary (a PNG)": (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "the file holds NUL bytes: it is binary, or UTF-16 text; save it as UTF-8 text",
    ),
    "UTF-16 with a byte order mark": (
        "project:\n  name: pose\n".encode("utf-16"),
        "the file is UTF-16 text; save it as UTF-8",
    ),
    "UTF-16 without one": ("project:\n  name: pose\n".encode("utf-16-le"), "the file holds NUL bytes"),
    "UTF-32": ("project: {}\n".encode("utf-32"), "the file is UTF-32 text; save it as UTF-8"),
    "Latin-1": (
        "project:\n  tags:\n    owner: José\n".encode("latin-1"),
        "not UTF-8 text: byte 0xe9 on line 3 is not UTF-8 (Latin-1 or another encoding?); save the file as UTF-8",
    ),
    "control character": (b"project:\n  name: \x07pose\n", "not valid YAML: unacceptable character #x0007"),
    "over a megabyte": (b"#" * (MAX_BYTES + 1), f"larger than {MAX_BYTES} bytes"),
    "lists nested 500 deep": (
        f"project:\n  tags: {DEEP}\n",
        "project.tags.0.0.0.0.0.0.0.0.0: nested more than 10 levels deep; config.yml's keys are at most 3",
    ),
    "mappings nested 500 deep": (
        "a: " + "{a: " * 500 + "}" * 500 + "\n",
        "a.a.a.a.a.a.a.a.a.a.a: nested more than 10 levels deep",
    ),
    "depth built from aliases": (
        "x0: &a0 [[[[[1]]]]]\nx1: &a1 [[[[*a0]]]]\nx2: &a2 [[[[*a1]]]]\n",
        "x2.0.0.0.0: nested more than 10 levels deep; config.yml's keys are at most 3 levels deep "
        "(through the alias *a1)",
    ),
    "an alias inside its own anchor": (
        "project:\n  tags: &loop {a: *loop}\n",
        "project.tags.a: the alias *loop refers to a collection it is inside of",
    ),
    "duplicate section": (
        "project:\n  name: a\nendpoint: {}\nproject:\n  stage: b\n",
        "project: duplicate key, on lines 1 and 4; keep one",
    ),
    "duplicate key": (
        "project:\n  name: a\n  name: b\n",
        "project.name: duplicate key, on lines 2 and 3; keep one",
    ),
    "duplicate key in a flow mapping": (
        "project: {tags: {team: a, team: b}}\n",
        "project.tags.team: duplicate key, on line 1 twice; keep one",
    ),
    "duplicate key spelled with quotes": ("s3:\n  bucket: a\n  'bucket': b\n", "s3.bucket: duplicate key"),
    "impossible date": (
        "project:\n  stage: 2024-13-45\n",
        "project.stage: cannot read '2024-13-45' as a timestamp",
    ),
    "5000-digit number": (
        "endpoint:\n  instance_count: " + "1" * 5000 + "\n",
        "endpoint.instance_count: cannot read '1111111111",
    ),
    "a list at the top": (
        "- project\n",
        "the top level must be a mapping of sections (project:, endpoint:, ...), not a list",
    ),
    "an empty list at the top": ("[]\n", "the top level must be a mapping of sections"),
    "zero at the top": ("0\n", "not the number 0"),
    "false at the top": ("false\n", "not the boolean false"),
    "text at the top": ("project\n", "not the text 'project'"),
    "a 1e400 threshold": (
        "monitoring:\n  threshold_seconds: 1e400\n",
        "monitoring.threshold_seconds: Input should be a finite number",
    ),
    "a .inf threshold": (
        "monitoring:\n  threshold_seconds: .inf\n",
        "monitoring.threshold_seconds: Input should be a finite",
    ),
    "a 1e30 threshold": ("monitoring:\n  threshold_seconds: 1e30\n", "less than or equal to 60"),
}


@pytest.mark.parametrize(("content", "message"), UNREADABLE.values(), ids=UNREADABLE.keys())
def test_a_file_that_is_no_config_is_one_line_naming_why(tmp_path: Path, content, message):
    assert message in refusal(tmp_path, content)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (f"project.tags={DEEP}", "--set: project.tags.0.0.0.0.0.0.0.0.0: nested more than 10 levels deep"),
        (".".join("abcdefghijkl") + "=1", "--set: a.b.c.d.e.f.g.h.i.j.k: nested more than 10 levels deep"),
        ("project.tags={a: 1, a: 2}", "--set: project.tags.a: duplicate key, on line 1 twice; keep one"),
        ("project.stage=2024-02-30", "--set: project.stage: cannot read '2024-02-30' as a timestamp"),
        ("endpoint.instance_count=true", "endpoint.instance_count: Input should be a valid integer"),
        (
            "monitoring.threshold_seconds=.nan",
            "monitoring.threshold_seconds: Input should be a finite number",
        ),
        ("model.name=no-such-model", "model.name: 'no-such-model' is not a catalog model"),
    ],
)
def test_a_set_value_is_read_as_strictly_as_the_file(tmp_path: Path, override: str, message: str):
    assert message in refusal(tmp_path, "{}\n", (override,))


@pytest.mark.parametrize("text", ["", "# nothing set\n", "\ufeff# a UTF-8 byte order mark\n", "~\n", "{}\n"])
def test_an_empty_document_means_every_default(tmp_path: Path, text: str):
    path = tmp_path / "config.yml"
    path.write_text(text, encoding="utf-8")

    assert load_config(path) == Config()


def test_numbers_with_an_exponent_are_numbers_as_in_yaml_1_2(tmp_path: Path):
    path = tmp_path / "config.yml"
    path.write_text("monitoring:\n  threshold_seconds: 5e-1\n  p99_threshold_seconds: 1.5E+1\n")

    monitoring = load_config(path, ["api.throttle_rate_limit=1e3"]).monitoring

    assert (monitoring.threshold_seconds, monitoring.p99_threshold_seconds) == (0.5, 15.0)


def test_anchors_and_merge_keys_still_work(tmp_path: Path):
    path = tmp_path / "config.yml"
    path.write_text("project:\n  tags: &common {team: vision}\napi:\n  extra_allowed_origins: []\n")

    assert load_config(path).project.tags == {"team": "vision"}


def test_a_directory_is_not_a_config_file(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"cannot read the config file \(Is a directory\)"):
        load_config(tmp_path)


@pytest.mark.parametrize(
    ("content", "arguments", "message"),
    [
        (b"\x00\x01\x02\xff binary", [], "the file holds NUL bytes"),
        ("endpoint: {}\n".encode("utf-16"), [], "the file is UTF-16 text"),
        (
            b"{}\n",
            ["--set", f"project.tags={DEEP}"],
            "--set: project.tags.0.0.0.0.0.0.0.0.0: nested more than",
        ),
    ],
    ids=["binary", "UTF-16", "deep --set"],
)
def test_python_m_deployment_validate_exits_2_with_one_line(tmp_path: Path, content, arguments, message):
    path = tmp_path / "config.yml"
    path.write_bytes(content)

    result = subprocess.run(
        [sys.executable, "-m", "deployment", "validate", "--config", str(path), *arguments],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
