"""Reading config.yml and `--set` values: UTF-8 YAML with unique keys and bounded nesting, or one line.

PyYAML alone lets the last of two equal keys win silently, composes nested collections
recursively (so `[[[[...]]]]` ends in RecursionError) and raises ValueError for an impossible
date or a 5000-digit number; here each of those is a ConfigError naming the key path.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence
from pathlib import Path

import yaml

from deployment.config_checks import shown
from deployment.errors import ConfigError

# A config.yml is a few kilobytes; PyYAML reads about 300 KB a second, so this bounds a bad file to ~1 s.
MAX_BYTES = 256 * 1024
# The deepest key in config.yml is 3 levels down (endpoint.serverless.memory_mb).
MAX_DEPTH = 10
DEPTH_LIMIT = f"nested more than {MAX_DEPTH} levels deep; config.yml's keys are at most 3 levels deep"


def key_path(parts: Sequence[object]) -> str:
    """`endpoint.environment.'A B'`: plain parts as they are, the others quoted, always one line."""
    return ".".join(
        text if text and text.isprintable() and not set(text) & set(". '\"") else repr(text)
        for text in map(str, parts)
    )


class Refused(Exception):
    """YAML that parses, but not as a config: a duplicate key, deep nesting, a value no type can hold."""

    def __init__(self, path: Sequence[object], what: str) -> None:
        super().__init__(f"{key_path(path)}: {what}" if path else what)


def read_document(path: Path) -> dict:
    """The file's top-level mapping; an empty file (or only comments) is an empty mapping: all defaults."""
    where = str(path)
    try:
        with open(path, "rb") as stream:
            raw = stream.read(MAX_BYTES + 1)
    except OSError as error:
        raise ConfigError(f"cannot read the config file ({error.strerror or error})", where=where) from error
    if len(raw) > MAX_BYTES:
        raise ConfigError(f"larger than {MAX_BYTES} bytes; a config file is a few kilobytes", where=where)
    try:
        document = load_yaml(_decode(raw, where))
    except Refused as refused:
        raise ConfigError(str(refused), where=where) from None
    except yaml.YAMLError as error:
        # PyYAML's message spans lines (with a caret diagram); the CLI promises one line.
        raise ConfigError(f"not valid YAML: {' '.join(str(error).split())}", where=where) from error
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ConfigError(
            f"the top level must be a mapping of sections (project:, endpoint:, ...), "
            f"not {_kind(document)}",
            where=where,
        )
    return document


def apply_override(document: dict, override: str) -> None:
    """`monitoring.threshold_seconds=0.5`: the value is parsed as YAML (numbers, booleans, null)."""
    path_text, separator, raw_value = override.partition("=")
    keys = path_text.strip().split(".")
    if not separator or not all(keys):
        raise ConfigError(f"--set {shown(override)} must look like section.key=value", where="--set")
    if len(keys) > MAX_DEPTH:
        raise ConfigError(f"{key_path(keys[: MAX_DEPTH + 1])}: {DEPTH_LIMIT}", where="--set")
    node = document
    for key in keys[:-1]:
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{key_path(keys)}: {key} is not a section", where="--set")
        node = child
    try:
        node[keys[-1]] = load_yaml(raw_value, keys) if raw_value.strip() else ""
    except Refused as refused:
        raise ConfigError(str(refused), where="--set") from None
    except yaml.YAMLError as error:
        raise ConfigError(
            f"{key_path(keys)}: the value {shown(raw_value)} is not valid YAML", where="--set"
        ) from error


def load_yaml(text: str, base: Sequence[str] = ()) -> object:
    """One YAML document, as `yaml.safe_load` reads it but strictly; `base` is where it goes in the config."""
    loader = StrictLoader(text, base)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _decode(raw: bytes, where: str) -> str:
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "UTF-32"),
        (codecs.BOM_UTF32_BE, "UTF-32"),
        (codecs.BOM_UTF16_LE, "UTF-16"),
        (codecs.BOM_UTF16_BE, "UTF-16"),
    ):
        if raw.startswith(bom):
            raise ConfigError(f"the file is {encoding} text; save it as UTF-8", where=where)
    if b"\0" in raw:
        raise ConfigError(
            "the file holds NUL bytes: it is binary, or UTF-16 text; save it as UTF-8 text", where=where
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise ConfigError(
            f"not UTF-8 text: byte 0x{raw[error.start]:02x} on line {line} is not UTF-8 "
            "(Latin-1 or another encoding?); save the file as UTF-8",
            where=where,
        ) from None


def _kind(document: object) -> str:
    if isinstance(document, bool):
        return f"the boolean {str(document).lower()}"
    if isinstance(document, int | float):
        return f"the number {shown(document)}"
    if isinstance(document, str):
        return f"the text {shown(document)}"
    return f"a {type(document).__name__}"


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys, deep nesting and self-referencing aliases."""

    def __init__(self, text: str, base: Sequence[str] = ()) -> None:
        super().__init__(text)
        self.path: list[object] = list(base)
        self.heights: dict[int, int] = {}  # id(node) -> how many levels it holds, once composed
        self.paths: dict[int, tuple[object, ...]] = {}  # id(node) -> its key path, for later errors

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        # The root and a mapping's keys add no level; a mapping's values and a sequence's items do.
        inside = parent is not None and index is not None
        if inside:
            self.path.append(_path_part(index))
        try:
            if self.check_event(yaml.AliasEvent):
                self._check_alias(self.peek_event().anchor)
                return super().compose_node(parent, index)
            if len(self.path) > MAX_DEPTH:
                raise Refused(self.path, DEPTH_LIMIT)
            node = super().compose_node(parent, index)
            self.heights[id(node)] = _height(node, self.heights)
            self.paths[id(node)] = tuple(self.path)
            return node
        finally:
            if inside:
                self.path.pop()

    def _check_alias(self, anchor: str) -> None:
        target = self.anchors.get(anchor)
        if target is None:
            return  # PyYAML reports the undefined alias
        height = self.heights.get(id(target))
        if height is None:
            raise Refused(self.path, f"the alias *{anchor} refers to a collection it is inside of")
        if len(self.path) + height > MAX_DEPTH:
            raise Refused(self.path, f"{DEPTH_LIMIT} (through the alias *{anchor})")

    def compose_mapping_node(self, anchor: str | None) -> yaml.MappingNode:
        node = super().compose_mapping_node(anchor)
        first_lines: dict[tuple[str, str], int] = {}
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode):
                line = key.start_mark.line + 1
                if (key.tag, key.value) in first_lines:
                    earlier = first_lines[(key.tag, key.value)]
                    lines = f"lines {earlier} and {line}" if earlier != line else f"line {line} twice"
                    raise Refused([*self.path, key.value], f"duplicate key, on {lines}; keep one")
                first_lines[(key.tag, key.value)] = line
        return node

    def construct_object(self, node: yaml.Node, deep: bool = False) -> object:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as error:
            kind = node.tag.rsplit(":", 1)[-1]
            reason = str(error).split(";")[0]
            raise Refused(
                self.paths.get(id(node), ()),
                f"cannot read {shown(node.value)} as a {kind} ({reason}); quote it if it is text",
            ) from None


# YAML 1.2 reads 1e3 and 1.5e-3 as numbers; PyYAML (YAML 1.1) reads them as text, which a number
# field would then refuse with a puzzling "should be a valid number".
StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def _path_part(index: object) -> object:
    """A mapping value's key (or "?" for a key that is itself a collection), or a sequence item's position."""
    if isinstance(index, yaml.ScalarNode):
        return index.value
    return "?" if isinstance(index, yaml.Node) else index


def _height(node: yaml.Node, heights: dict[int, int]) -> int:
    if isinstance(node, yaml.SequenceNode):
        children = node.value
    elif isinstance(node, yaml.MappingNode):
        children = [child for pair in node.value for child in pair]
    else:
        return 0
    return 1 + max((heights.get(id(child), 0) for child in children), default=0)
