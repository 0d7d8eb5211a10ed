"""The commands the workflow's steps call that this machine has not (or must not run for real):
`docker`, `aws`, `apt-get` and `sudo`, first on the runner's PATH.

- docker: `login`/`logout` keep the registry's credentials in $DOCKER_CONFIG/config.json, as docker
  does; `build` builds with podman on `make image-test`'s Debian base when it exists, else records
  the build; `push` needs a login to that registry and registers the image in moto's ECR (PutImage,
  with a manifest whose config digest is the local image id), so `describe-images` gives a digest.
- aws: the AWS CLI's grammar for any `aws SERVICE OPERATION --member value` of simple shapes
  (strings, numbers, lists, `k=v,k=v` shorthand), with --query, --output text|json, --region;
  the call itself is boto3's, through AWS_ENDPOINT_URL. Exit 252 for bad usage, 254 for AWS errors.
- apt-get: `update` does nothing (no network in tests); `install` checks each package is installed
  here and fails, saying what to install, when one is not.
- sudo: runs its command (the runner is root, as GitHub's runner has passwordless sudo).

Every call is appended to $POSE_PIPELINE_STATE/calls.jsonl.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

STATE = "POSE_PIPELINE_STATE"
LOCAL_BASE = "localhost/pose-base:bookworm"  # tests/images/engine.py makes it
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"


def main() -> int:
    command, args = Path(sys.argv[0]).name, sys.argv[1:]
    _log(command, args)
    return {"docker": docker, "aws": aws, "apt-get": apt_get, "sudo": sudo}[command](args)


def _log(command: str, args: list[str]) -> None:
    state = Path(os.environ[STATE])
    with (state / "calls.jsonl").open("a", encoding="utf-8") as log:
        log.write(json.dumps({"command": command, "args": args, "cwd": os.getcwd()}) + "\n")


# docker


def docker(args: list[str]) -> int:
    if not args:
        return _usage("docker: a command is needed")
    verb, rest = args[0], args[1:]
    handlers = {"login": _login, "logout": _logout, "build": _build, "push": _push}
    if verb not in handlers:
        return _usage(f"docker (pipeline-test shim): {verb!r} is not one of {', '.join(handlers)}")
    return handlers[verb](rest)


def _docker_config() -> Path:
    path = Path(os.environ.get("DOCKER_CONFIG", Path.home() / ".docker")) / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _auths() -> dict:
    path = _docker_config()
    return json.loads(path.read_text()).get("auths", {}) if path.exists() else {}


def _save_auths(auths: dict) -> None:
    _docker_config().write_text(json.dumps({"auths": auths}, indent=2))


def _login(args: list[str]) -> int:
    options, positional = _options(args, {"-u": "username", "--username": "username", "-p": "password"})
    if "--password-stdin" in positional:
        positional.remove("--password-stdin")
        options["password"] = sys.stdin.read().strip()
    if len(positional) != 1 or not options.get("username") or not options.get("password"):
        return _usage("docker login: -u USER, -p PASSWORD (or --password-stdin) and one registry are needed")
    registry = positional[0].removeprefix("https://").removeprefix("http://")
    token = base64.b64encode(f"{options['username']}:{options['password']}".encode()).decode()
    _save_auths({**_auths(), registry: {"auth": token}})
    print("Login Succeeded")
    return 0


def _logout(args: list[str]) -> int:
    auths = _auths()
    for registry in args:
        auths.pop(registry.removeprefix("https://"), None)
        print(f"Removing login credentials for {registry}")
    _save_auths(auths)
    return 0


def _build(args: list[str]) -> int:
    options, positional = _options(args, {"--file": "file", "-f": "file", "--tag": "tag", "-t": "tag"})
    if len(positional) != 1 or not options.get("tag"):
        return _usage("docker build: --tag and one context directory are needed")
    dockerfile = options.get("file", "Dockerfile")
    podman = shutil.which("podman")
    if podman and _podman_ok(podman, "image", "exists", LOCAL_BASE):
        command = [podman, "build", "--file", dockerfile, "--tag", options["tag"]]
        command += ["--build-arg", f"BASE_IMAGE={LOCAL_BASE}"]
        if HOST_CA_BUNDLE.is_file():
            command += ["--volume", f"{HOST_CA_BUNDLE}:{HOST_CA_BUNDLE}:ro"]
        return subprocess.run([*command, positional[0]], check=False).returncode
    # No base to build on: record what would be built, named by the content that goes in.
    digest = _context_digest(Path(positional[0]), Path(dockerfile))
    records = _recorded_images()
    records[options["tag"]] = {"config": f"sha256:{digest}", "dockerfile": dockerfile, "recorded": True}
    _recorded_path().write_text(json.dumps(records, indent=2))
    print(f"recorded the build of {options['tag']} from {dockerfile} (no {LOCAL_BASE} to build on)")
    return 0


def _push(args: list[str]) -> int:
    if len(args) != 1:
        return _usage("docker push: one image reference is needed")
    reference = args[0]
    registry, _, path = reference.partition("/")
    repository, _, tag = path.rpartition(":")
    if registry not in _auths():
        print(f"denied: no basic auth credentials for {registry}", file=sys.stderr)
        return 1
    image = _local_image(reference)
    if image is None:
        print(f"An image does not exist locally with the tag: {reference}", file=sys.stderr)
        return 1
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST_TYPE,
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", **image["config"]},
            "layers": image["layers"],
        },
        separators=(",", ":"),
    )
    import boto3
    from botocore.exceptions import ClientError

    region = registry.split(".")[3]
    try:
        pushed = boto3.client("ecr", region_name=region).put_image(
            repositoryName=repository,
            imageManifest=manifest,
            imageTag=tag,
            imageManifestMediaType=MANIFEST_TYPE,
        )["image"]
    except ClientError as error:
        print(f"push to {reference} refused: {error}", file=sys.stderr)
        return 1
    print(f"{tag}: digest: {pushed['imageId']['imageDigest']} size: {len(manifest)}")
    return 0


def _local_image(reference: str) -> dict | None:
    """The config and layers of a built image: podman's, or the recorded build's."""
    podman = shutil.which("podman")
    if podman and _podman_ok(podman, "image", "exists", reference):
        found = subprocess.run(
            [podman, "image", "inspect", reference], capture_output=True, text=True, check=True
        )
        (inspected,) = json.loads(found.stdout)
        layers = inspected.get("RootFS", {}).get("Layers", [])
        return {
            "config": {"digest": f"sha256:{inspected['Id']}", "size": inspected.get("Size", 0)},
            "layers": [
                {"mediaType": "application/vnd.docker.image.rootfs.diff.tar", "digest": layer, "size": 0}
                for layer in layers
            ],
        }
    recorded = _recorded_images().get(reference)
    if recorded is None:
        return None
    return {"config": {"digest": recorded["config"], "size": 0}, "layers": []}


def _podman_ok(podman: str, *args: str) -> bool:
    return subprocess.run([podman, *args], capture_output=True, check=False).returncode == 0


def _recorded_path() -> Path:
    return Path(os.environ[STATE]) / "recorded-images.json"


def _recorded_images() -> dict:
    path = _recorded_path()
    return json.loads(path.read_text()) if path.exists() else {}


def _context_digest(context: Path, dockerfile: Path) -> str:
    """sha256 over the Dockerfile and the context's files (names and bytes), .dockerignore'd or not."""
    digest = hashlib.sha256((context / dockerfile).read_bytes())
    for path in sorted(p for p in context.rglob("*") if p.is_file() and ".git" not in p.parts):
        digest.update(str(path.relative_to(context)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


# aws


def aws(args: list[str]) -> int:
    from tests.pipeline.aws_cli import run

    return run(args)


# apt-get and sudo


def apt_get(args: list[str]) -> int:
    words = [arg for arg in args if not arg.startswith("-")]
    if not words:
        return _usage("apt-get: a command is needed")
    if words[0] == "update":
        print("apt-get update: skipped (the pipeline test uses no network; packages must be installed)")
        return 0
    if words[0] != "install":
        return _usage(f"apt-get (pipeline-test shim): only update and install, not {words[0]!r}")
    missing = [package for package in words[1:] if not _installed(package)]
    if missing:
        print(
            f"E: the pipeline test installs nothing: run `apt-get install {' '.join(missing)}` on this machine first",
            file=sys.stderr,
        )
        return 100
    print(f"{' '.join(words[1:])}: already installed")
    return 0


def _installed(package: str) -> bool:
    found = subprocess.run(
        ["dpkg-query", "--show", "--showformat=${Status}", package],
        capture_output=True,
        text=True,
        check=False,
    )
    return found.stdout.endswith("install ok installed")


def sudo(args: list[str]) -> int:
    if not args:
        return _usage("sudo: a command is needed")
    os.execvp(args[0], args)  # noqa: S606 - sudo replaces itself with its command, as sudo does
    return 1  # not reached


def _options(args: list[str], names: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    options: dict[str, str] = {}
    positional: list[str] = []
    words = iter(args)
    for word in words:
        if word in names:
            options[names[word]] = next(words, "")
        elif "=" in word and word.split("=", 1)[0] in names:
            key, value = word.split("=", 1)
            options[names[key]] = value
        elif word == "--build-arg":
            next(words, "")  # the shim chooses the base itself
        else:
            positional.append(word)
    return options, positional


def _usage(message: str) -> int:
    print(message, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
