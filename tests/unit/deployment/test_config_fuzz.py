"""A seeded generator of bad configs, made by mutating the shipped config.yml.

Every case must end in a ConfigError (never another exception) whose message is one line and
names the key path it is about (or the file, for bytes that are no text). The seed is fixed, so
a failure names a case that fails again on every run.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from deployment.config import load_config
from deployment.errors import ConfigError
from tests.conftest import REPO

SEED = 410
SHIPPED_TEXT = (REPO / "config.yml").read_text(encoding="utf-8")
SHIPPED = yaml.safe_load(SHIPPED_TEXT)
# The shipped values without the comments: a third of the text, so each case parses faster.
SHIPPED_VALUES = yaml.safe_dump(SHIPPED, sort_keys=False).encode()
PLACEHOLDER = "PLACEHOLDERd41d8cd9"
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's, when PyYAML has it: 10x faster

# Keys config.yml may hold that the shipped file leaves out (or comments out), with their defaults.
UNLISTED = {
    ("model", "path"): None,
    ("model", "url"): None,
    ("model", "sha256"): None,
    ("model", "family"): None,
    ("endpoint", "serverless"): None,
    ("endpoint", "serverless", "memory_mb"): 2048,
    ("endpoint", "serverless", "max_concurrency"): 5,
}
MAPPING_FIELDS = {("project", "tags"), ("endpoint", "environment")}
# A float field whose default is written as a whole number.
KIND = {("api", "throttle_rate_limit"): float}

# YAML that no field of config.yml accepts, whatever its type.
NO_FIELD_TAKES = [
    ".inf",
    "-.inf",
    ".nan",
    "1e400",
    "1" + "0" * 30,
    "-1" + "0" * 30,
    "'１'",  # a full-width digit: \d in Python's re matches it
    "'٣'",  # an Arabic-Indic digit
    "x" * 10_000,
    "[[1]]",
    "{bad key: [1]}",
    # 60 is past the limit of 10 (test_config_yaml.py has 500); PyYAML scans deep flow lists slowly.
    "[" * 60 + "]" * 60,
    "{a: " * 300 + "1" + "}" * 300,
    "&loop [*loop]",
]
# YAML of the wrong type (or out of range) for a field whose default has this type.
WRONG_FOR = {
    bool: ["1", "0", "'true'", "'yes'", "1.0", "null", "'１'"],
    int: ["true", "false", "'1'", "1.5", "2.0", "null", "１", "1e3"],
    float: ["true", "'1.0'", "1e30", "-1.5", "0", "nan", "null", "'１.5'"],
    str: ["7", "true", "1.5", "[]", "{}", "null", "''", "'  padded  '", '"a\\nb"', "2024-01-01"],
    dict: ["[]", "'text'", "{'': v}", "{k: 1}", "{k: [v]}", "{k: null}", "{k: .inf}"],
    list: ["'http://example.com'", "['*']", "[1]", "[{a: 1}]", "[null]", "[http://localhost:99999]"],
    type(None): ["''", "true", "[]"],
}
RESERVED_TAG_KEYS = ["aws:cost-center", "AWS:x", "pose:deployment", "pose:monitoring-schedule", "Pose:other"]
RESERVED_BUCKETS = [
    "xn--pose",
    "sthree-pose",
    "amzn-s3-demo-pose",
    "pose-s3alias",
    "pose--ol-s3",
    "pose.mrap",
]
RESERVED_BUCKETS += ["pose--x-s3", "pose--table-s3", "192.168.1.1", "pose..web"]
UNKNOWN_KEYS = ["instance_typo", "Name", "ｎａｍｅ", "__class__", "model_config", "1", "true"]
ENCODINGS = ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1", "cp1252", "shift_jis"]
NOT_A_MAPPING = ["[]", "0", "false", "'text'", "1.5", "[a, b]", "!!binary aGk=", "2024-01-01", "- a\n- b"]


@dataclass(frozen=True)
class Case:
    name: str
    content: bytes
    overrides: tuple[str, ...] = ()
    key_path: str | None = None  # None: the message names the file instead


def leaves(document: dict, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], object]]:
    for key, value in document.items():
        here = (*path, key)
        if isinstance(value, dict) and here not in MAPPING_FIELDS:
            yield from leaves(value, here)
        else:
            yield here, value


LEAVES = [*leaves(SHIPPED), *UNLISTED.items()]


def with_value(path: tuple[str, ...], snippet: str) -> bytes:
    """The shipped config with the YAML `snippet` at `path`."""
    document = copy.deepcopy(SHIPPED)
    node = document
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = PLACEHOLDER
    text = yaml.dump(document, Dumper=DUMPER, sort_keys=False, width=1_000_000, allow_unicode=True)
    return text.replace(PLACEHOLDER, snippet).encode()


def value_cases(rng: random.Random, count: int) -> Iterator[Case]:
    for number in range(count):
        # Every key once, then keys at random.
        path, default = LEAVES[number] if number < len(LEAVES) else rng.choice(LEAVES)
        snippet = rng.choice(NO_FIELD_TAKES + WRONG_FOR[KIND.get(path, type(default))] * 2)
        dotted = ".".join(path)
        label = f"value-{number:03}-{dotted}={snippet[:24]}"
        if rng.random() < 0.3 and "\n" not in snippet:
            yield Case(label + " (--set)", SHIPPED_VALUES, (f"{dotted}={snippet}",), dotted)
        else:
            yield Case(label, with_value(path, snippet), (), dotted)


def duplicate_cases(rng: random.Random, count: int) -> Iterator[Case]:
    lines = SHIPPED_TEXT.splitlines(keepends=True)
    sections = {}
    section = ""
    for number, line in enumerate(lines):
        if line[:1].isalpha():
            section = line.split(":")[0]
        elif line.startswith("  ") and line[2:3].isalpha() and ":" in line:
            sections[number] = f"{section}.{line.split(':')[0].strip()}"
    for number in rng.sample(sorted(sections), count):
        twice = [*lines[: number + 1], lines[number], *lines[number + 1 :]]
        dotted = sections[number]
        yield Case(f"duplicate-{dotted}", "".join(twice).encode(), (), f"{dotted}: duplicate key")


def encoding_cases(rng: random.Random) -> Iterator[Case]:
    for encoding in ENCODINGS:
        owner = "owner: チーム" if encoding == "shift_jis" else "owner: équipe"
        yield Case(f"encoding-{encoding}", SHIPPED_TEXT.replace("owner: ml-team", owner).encode(encoding))
    for number in range(8):
        # A first byte no UTF-8 text starts with (NUL, a continuation byte, 0xfe, 0xff), then noise.
        first = bytes([rng.choice([0x00, 0x80, 0xBF, 0xFE, 0xFF])])
        yield Case(f"binary-{number}", first + rng.randbytes(rng.choice([0, 15, 511, 4095])))


def structural_cases(rng: random.Random) -> Iterator[Case]:
    for key in UNKNOWN_KEYS:
        section = rng.choice(list(SHIPPED))
        yield Case(
            f"unknown-{section}.{key}", with_value((section, key), "1"), (), f"{section}.{key}: unknown key"
        )
    yield Case(
        "unknown-section", (SHIPPED_TEXT + "\nendpoints:\n  x: 1\n").encode(), (), "endpoints: unknown key"
    )
    for text in NOT_A_MAPPING:
        yield Case(f"top-level-{text[:10]}", text.encode(), (), "the top level must be a mapping")
    for key in RESERVED_TAG_KEYS:
        yield Case(
            f"reserved-tag-{key}", with_value(("project", "tags"), f"{{'{key}': x}}"), (), "project.tags"
        )
    for name in RESERVED_BUCKETS:
        for section in ("s3", "webapp"):
            yield Case(
                f"reserved-bucket-{section}-{name}",
                with_value((section, "bucket"), name),
                (),
                f"{section}.bucket",
            )


def bad_configs() -> list[Case]:
    rng = random.Random(SEED)
    return [
        *value_cases(rng, 300),
        *duplicate_cases(rng, 20),
        *encoding_cases(rng),
        *structural_cases(rng),
    ]


CASES = bad_configs()


@pytest.fixture(scope="module")
def path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One file that each case overwrites: a directory per case would cost more than the case."""
    return tmp_path_factory.mktemp("fuzz") / "config.yml"


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_a_bad_config_is_one_config_error_line_naming_its_key_path(path: Path, case: Case):
    path.write_bytes(case.content)

    with pytest.raises(ConfigError) as raised:
        load_config(path, case.overrides)

    message = str(raised.value)
    assert "\n" not in message and "\r" not in message and len(message) < 1000, message
    if case.key_path is None:
        assert message.startswith(f"{path}: "), message
    else:
        assert case.key_path in message, message


def test_the_generator_mutates_every_key_in_a_few_hundred_cases():
    mutated = {case.key_path for case in CASES if case.name.startswith("value-")}

    assert mutated == {".".join(path) for path, _ in LEAVES}
    assert len(CASES) > 350
