"""An uploaded model checked and packaged without the inference stack: what the upload Lambda needs.

A TFLite file is a FlatBuffer whose file identifier, bytes 4 to 8, is "TFL3"; its first subgraph's
first input tensor has the shape the model takes. Both are read here from the bytes (the schema's
field order: Model.subgraphs is field 2, SubGraph.tensors 0 and .inputs 1, Tensor.shape 0), so a
file that is not a model, or a model of another shape, is refused before anything is registered.
The package is `model.tar.gz` with model.json, byte for byte as `inference/artifact.py` makes it.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import struct
import tarfile
from dataclasses import dataclass

from inference.keypoints import BLAZEPOSE_LANDMARKS, COCO_KEYPOINTS

MANIFEST = "model.json"
IDENTIFIER = b"TFL3"
ROLES = {"movenet": "keypoints", "blazepose": "landmarks"}  # each family's main model file


class Refused(ValueError):
    """Why an upload is not a model this project can serve; said in the rejection's reason."""


@dataclass(frozen=True)
class Package:
    name: str
    family: str
    sha256: str  # the package's: its key is content-addressed by it
    data: bytes


def input_shape(model: bytes) -> tuple[int, ...]:
    """The first input's shape, read from the FlatBuffer; Refused if it is not a TFLite model."""
    if len(model) < 8 or model[4:8] != IDENTIFIER:
        raise Refused("not a TFLite model (no TFL3 file identifier)")
    try:
        root = _u32(model, 0)
        subgraph = _vector_tables(model, _field(model, root, 2))[0]
        tensors = _vector_tables(model, _field(model, subgraph, 0))
        first_input = _vector_ints(model, _field(model, subgraph, 1))[0]
        return tuple(_vector_ints(model, _field(model, tensors[first_input], 0)))
    except (IndexError, struct.error) as error:
        raise Refused(f"a damaged TFLite model ({error})") from error


def _u32(data: bytes, at: int) -> int:
    return struct.unpack_from("<I", data, at)[0]


def _field(data: bytes, table: int, index: int) -> int:
    """The position of a table's field (the vtable says where), or IndexError if it is absent."""
    vtable = table - struct.unpack_from("<i", data, table)[0]
    size = struct.unpack_from("<H", data, vtable)[0]
    slot = 4 + 2 * index
    offset = struct.unpack_from("<H", data, vtable + slot)[0] if slot < size else 0
    if offset == 0:
        raise IndexError(f"field {index} is absent")
    return table + offset


def _vector(data: bytes, at: int) -> tuple[int, int]:
    start = at + _u32(data, at)
    length = _u32(data, start)
    if start + 4 + 4 * length > len(data):
        raise IndexError("a vector runs past the end of the file")
    return start + 4, length


def _vector_tables(data: bytes, at: int) -> list[int]:
    start, length = _vector(data, at)
    return [start + 4 * i + _u32(data, start + 4 * i) for i in range(length)]


def _vector_ints(data: bytes, at: int) -> list[int]:
    start, length = _vector(data, at)
    return list(struct.unpack_from(f"<{length}i", data, start))


def input_size(model: bytes, family: str) -> tuple[int, int]:
    """(width, height) of an RGB NHWC input the family's pipeline can feed."""
    shape = input_shape(model)
    if len(shape) != 4 or shape[3] != 3:
        raise Refused(f"expected an NHWC RGB input, got shape {list(shape)}")
    height, width = shape[1], shape[2]
    if height != width:
        raise Refused(f"{family} models take a square input, this one {width}x{height}")
    return width, height


def manifest(name: str, family: str, filename: str, model: bytes, source: str) -> dict:
    """model.json for a single-file model, as `python -m inference fetch` writes one."""
    width, height = input_size(model, family)
    digest = hashlib.sha256(model).hexdigest()
    return {
        "manifest_version": 1,
        "name": name,
        "family": family,
        "version": digest[:12],
        "files": {ROLES[family]: filename},
        "sha256": {filename: digest},
        "input_size": [width, height],
        "keypoints": list(COCO_KEYPOINTS),
        "landmarks": list(BLAZEPOSE_LANDMARKS) if family == "blazepose" else [],
        "source": source,
    }


def from_tflite(filename: str, model: bytes, family: str, source: str) -> Package:
    if family not in ROLES:
        raise Refused(f"unknown family {family!r}; expected one of {', '.join(ROLES)}")
    document = manifest(filename.rsplit(".", 1)[0], family, filename, model, source)
    return _package(document, {filename: model})


def from_archive(archive: bytes, family: str | None) -> Package:
    """An uploaded model.tar.gz: its model.json, and every file it lists with that sha256."""
    files = _members(archive)
    if MANIFEST not in files:
        raise Refused(f"the archive has no {MANIFEST} at its root")
    try:
        document = json.loads(files[MANIFEST])
        listed, digests, declared = document["files"], document["sha256"], document["family"]
    except (ValueError, KeyError, TypeError) as error:
        raise Refused(f"its {MANIFEST} is unreadable ({error})") from error
    if declared not in ROLES or ROLES[declared] not in listed:
        raise Refused(f"its {MANIFEST} names family {declared!r} without its main model file")
    if family and family != declared:
        raise Refused(f"the upload says family {family}, its {MANIFEST} {declared}")
    for role, filename in listed.items():
        if filename not in files:
            raise Refused(f"the {role} file {filename} is not in the archive")
        if hashlib.sha256(files[filename]).hexdigest() != digests.get(filename):
            raise Refused(f"{filename} does not have the sha256 its {MANIFEST} lists")
    main = files[listed[ROLES[declared]]]
    if list(input_size(main, declared)) != list(document.get("input_size", [])):
        raise Refused(f"its {MANIFEST} input_size is not the model's")
    kept = {name: files[name] for name in listed.values()}
    return _package(document, kept, files[MANIFEST])


def _members(archive: bytes) -> dict[str, bytes]:
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as opened:
            found = {}
            for member in opened.getmembers():
                if member.isdir():
                    continue
                if not member.isfile() or "/" in member.name.strip("./") or ".." in member.name:
                    raise Refused(f"the archive holds {member.name!r}: only flat files are packaged")
                found[member.name.removeprefix("./")] = opened.extractfile(member).read()
            return found
    except (tarfile.TarError, OSError, EOFError) as error:
        raise Refused(f"not a readable model.tar.gz ({error})") from error


def _package(document: dict, files: dict[str, bytes], written: bytes | None = None) -> Package:
    """Flat, in name order, with fixed owners, modes and times: inference/artifact.py's bytes."""
    manifest_bytes = written if written is not None else (json.dumps(document, indent=2) + "\n").encode()
    contents = {**files, MANIFEST: manifest_bytes}
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, filename="") as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as archive,
    ):
        for name in sorted(contents):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(contents[name]), 0o644, 0
            archive.addfile(info, io.BytesIO(contents[name]))
    data = buffer.getvalue()
    return Package(document["name"], document["family"], hashlib.sha256(data).hexdigest(), data)
