"""The CLI's promises that need no AWS: exit 2 and one `error:` line for bad configs and unpinned images."""

from __future__ import annotations

from pathlib import Path

import pytest

import deployment.aws
from deployment import cli
from deployment.config import load_config
from deployment.costs import monthly_cost
from deployment.errors import ConfigError
from deployment.prices import HOSTING_HOURLY_USD
from tests.conftest import REPO
from tests.unit.deployment.builders import INFERENCE_IMAGE, MONITORING_IMAGE
from tests.unit.deployment.github_files import read_github_output

SHIPPED = str(REPO / "config.yml")


@pytest.fixture(autouse=True)
def no_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every case here must fail (or succeed) before any AWS client exists."""

    def refuse(*args, **kwargs):
        raise AssertionError("the CLI connected to AWS")

    monkeypatch.setattr(deployment.aws, "connect", refuse)
    for variable in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "INFERENCE_IMAGE", "MONITORING_IMAGE"):
        monkeypatch.delenv(variable, raising=False)


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


COST = (
    "while deployed: about $0.115/hour (1 x ml.m5.large, on-demand in us-east-1), "
    "plus a monitoring job on ml.m5.large for a few minutes each run\n"
)


def monthly(*overrides: str) -> str:
    """The shipped config's estimate, from the price table (tests/unit/deployment/test_costs.py checks it)."""
    return monthly_cost(load_config(Path(SHIPPED), overrides)).summary()


def test_validate_accepts_the_shipped_config(capsys):
    assert run(capsys, "validate", "--config", SHIPPED) == (
        0,
        f"{SHIPPED} is valid: pose-dev in us-east-1, model blazepose-heavy on ml.m5.large\n{COST}"
        f"estimated cost: {monthly()}\n",
        "",
    )
    assert monthly().startswith("about $131.19/month (us-east-1 list prices of 2025; ")


def test_validate_applies_every_set_override(capsys):
    code, out, _ = run(
        capsys,
        "validate",
        "--config",
        SHIPPED,
        "--set",
        "project.stage=pr-7",
        "--set",
        "endpoint.instance_type=ml.c6i.xlarge",
    )

    assert (code, out) == (
        0,
        f"{SHIPPED} is valid: pose-pr-7 in us-east-1, model blazepose-heavy on ml.c6i.xlarge\n"
        "while deployed: 1 x ml.c6i.xlarge per hour: see https://aws.amazon.com/sagemaker/pricing/, "
        "plus a monitoring job on ml.m5.large for a few minutes each run\n"
        f"estimated cost: {monthly('endpoint.instance_type=ml.c6i.xlarge')}\n",
    )
    assert "endpoint price unknown" in out and "estimated cost: at least $" in out


def test_validate_names_every_model_of_a_multi_model_endpoint_the_default_first(capsys):
    code, out, _ = run(
        capsys,
        "validate",
        "--config",
        SHIPPED,
        "--set",
        "endpoint.models=[blazepose-lite, movenet-lightning, blazepose-heavy]",
    )

    assert (code, out.splitlines()[0]) == (
        0,
        f"{SHIPPED} is valid: pose-dev in us-east-1, "
        "models blazepose-heavy, blazepose-lite, movenet-lightning (default first) on ml.m5.large",
    )


def test_validate_prices_a_type_in_the_table(capsys):
    code, out, _ = run(
        capsys, "validate", "--config", SHIPPED, "--set", "endpoint.instance_type=ml.c5.xlarge"
    )

    assert code == 0
    assert "while deployed: about $0.204/hour (1 x ml.c5.xlarge, on-demand in us-east-1)" in out
    assert f"endpoint ${730 * HOSTING_HOURLY_USD['ml.c5.xlarge']:,.2f}, monitoring up to $" in out


def test_a_value_cannot_forge_another_output(tmp_path: Path, monkeypatch):
    """A monitoring message that ends in a line of its own must stay that message's text."""
    output = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    attack = "CompletedWithViolations: p99 over 1.0 s\napi_url=https://attacker.example/predict"
    real = "https://abc123.execute-api.us-east-1.amazonaws.com/predict"

    cli._publish_outputs({"api_url": real, "endpoint_name": "pose-pr-42"}, [])
    cli._publish_outputs({"monitoring_status": "CompletedWithViolations", "monitoring_message": attack}, [])

    outputs = read_github_output(output.read_text())
    assert outputs["api_url"] == real
    assert outputs["monitoring_message"] == attack
    assert outputs["plan_changes"] == "0"


def test_each_output_has_its_own_random_delimiter_and_one_inside_a_value_is_refused():
    from deployment.github_outputs import output_block

    first, second = output_block("a", "x"), output_block("a", "x")
    assert first.startswith("a<<ghadelimiter_") and first != second
    with pytest.raises(ValueError, match="contains its delimiter"):
        output_block("message", "text\nEOF\napi_url=https://attacker.example", delimiter="EOF")
    with pytest.raises(ValueError, match="not a step output name"):
        output_block("api_url=x\nb", "y")


def test_validate_gives_ci_the_stage_and_its_cost(capsys, tmp_path: Path, monkeypatch):
    output = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    assert run(capsys, "validate", "--config", SHIPPED, "--set", "project.stage=pr-7")[0] == 0
    assert read_github_output(output.read_text()) == {
        "stage": "pr-7",
        "prefix": "pose-pr-7",
        "hourly_cost": COST.removeprefix("while deployed: ").rstrip(),
        "monthly_cost": monthly("project.stage=pr-7"),
    }


def test_the_job_summary_keeps_each_value_in_its_cell(tmp_path: Path, monkeypatch):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    cli._publish_outputs({"monitoring_message": "a | b\n| forged | row |`"}, [])
    assert (
        summary.read_text().splitlines()[-1] == "| monitoring_message | `a \\| b \\| forged \\| row \\|'` |"
    )


BAD = {
    "unknown key": ("endpoint:\n  instanse_type: ml.m5.large\n", [], "endpoint.instanse_type: unknown key"),
    "serverless with capture": (
        "endpoint:\n  serverless: {}\n",
        [],
        "endpoint.serverless: SageMaker does not",
    ),
    "invalid yaml": ("endpoint: [\n", [], "not valid YAML"),
    "bad override value": ("{}\n", ["data_capture.sampling_percent=101"], "data_capture.sampling_percent"),
    "malformed override": ("{}\n", ["monitoring.enabled"], "must look like section.key=value"),
    "too frequent schedule": ("monitoring:\n  schedule: cron(0/15 * ? * * *)\n", [], "monitoring.schedule"),
}


@pytest.mark.parametrize("command", ["validate", "plan", "deploy", "destroy", "status"])
@pytest.mark.parametrize(("text", "overrides", "message"), BAD.values(), ids=BAD.keys())
def test_a_bad_config_exits_2_with_one_error_line(capsys, tmp_path: Path, command, text, overrides, message):
    path = tmp_path / "config.yml"
    path.write_text(text)
    sets = [arg for override in overrides for arg in ("--set", override)]

    code, out, err = run(capsys, command, "--config", str(path), *sets)

    assert code == 2
    assert out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err
    assert "Traceback" not in err


def test_a_missing_config_file_exits_2(capsys, tmp_path: Path):
    code, _, err = run(capsys, "validate", "--config", str(tmp_path / "nope.yml"))

    assert (code, err) == (
        2,
        f"error: {tmp_path / 'nope.yml'}: cannot read the config file (No such file or directory)\n",
    )


@pytest.mark.parametrize("command", ["plan", "deploy"])
@pytest.mark.parametrize(
    ("flag", "uri"),
    [
        ("--inference-image", "123456789012.dkr.ecr.us-east-1.amazonaws.com/pose:latest"),
        ("--inference-image", "123456789012.dkr.ecr.us-east-1.amazonaws.com/pose@sha256:abc"),
        ("--monitoring-image", "123456789012.dkr.ecr.us-east-1.amazonaws.com/pose-monitor:v1"),
    ],
)
def test_an_image_not_pinned_by_digest_exits_2_before_any_aws_call(capsys, command, flag, uri):
    images = {"--inference-image": INFERENCE_IMAGE, "--monitoring-image": MONITORING_IMAGE, flag: uri}
    argv = [command, "--config", SHIPPED, *(arg for pair in images.items() for arg in pair)]

    code, out, err = run(capsys, *argv)

    assert (code, out) == (2, "")
    assert err == f"error: {flag}: {uri!r} is not pinned by digest (repo@sha256:<64 hex>)\n"


def test_a_missing_image_exits_2(capsys):
    code, _, err = run(capsys, "plan", "--config", SHIPPED, "--monitoring-image", MONITORING_IMAGE)

    assert code == 2 and err.startswith("error: --inference-image: ")


def test_images_may_come_from_the_environment(capsys, monkeypatch, tmp_path: Path):
    monkeypatch.setenv("INFERENCE_IMAGE", INFERENCE_IMAGE)
    monkeypatch.setenv("MONITORING_IMAGE", MONITORING_IMAGE)

    code, _, err = run(capsys, "plan", "--config", SHIPPED, "--model-artifact", str(tmp_path / "none.tar.gz"))

    # Past the image check: the next thing checked is the artifact.
    assert (code, err) == (2, f"error: --model-artifact {tmp_path / 'none.tar.gz'}: no such file\n")


def test_monitor_needs_now(capsys):
    code, _, err = run(capsys, "monitor", "--config", SHIPPED)

    assert (code, err) == (2, "error: monitor: only --now is supported: the schedule runs hourly by itself\n")


def test_debug_shows_the_traceback_instead(tmp_path: Path):
    path = tmp_path / "config.yml"
    path.write_text("projekt: {}\n")

    with pytest.raises(ConfigError, match="projekt: unknown key"):
        cli.main(["validate", "--config", str(path), "--debug"])


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as raised:
        cli.main(["deploy", "--no-such-flag"])

    assert raised.value.code == 2


def test_a_reader_that_stops_early_gets_no_traceback():
    """`python -m deployment iam-policy | head -3`: the pipe closes under the printing."""
    import subprocess
    import sys

    printer = subprocess.Popen(
        [sys.executable, "-m", "deployment", "iam-policy", "--account-id", "123456789012"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    printer.stdout.close()  # before it prints: as `head -0` does, or `head` once it has its lines
    error = printer.stderr.read().decode()
    assert printer.wait(timeout=60) == 0 and "Traceback" not in error, error


class PlannedStub:
    """A Deployer whose plan is one endpoint to create: the CLI's printing without AWS."""

    def __init__(self, config):
        self.config = config

    def plan(self, images, artifact=None, commit="", pull_request=""):
        from types import SimpleNamespace

        from deployment.resources.base import Action

        return SimpleNamespace(actions=[Action("create", "endpoint", "pose-dev", "new")])

    def apply(self, planned) -> None:
        pass

    def outputs(self) -> dict[str, str]:
        return {"endpoint_name": "pose-dev"}


@pytest.mark.parametrize("command", ["plan", "deploy"])
def test_plan_and_deploy_print_the_monthly_cost_above_the_plan_and_output_it(
    capsys, tmp_path: Path, monkeypatch, command
):
    monkeypatch.setattr(cli, "Deployer", PlannedStub)
    output = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    images = ("--inference-image", INFERENCE_IMAGE, "--monitoring-image", MONITORING_IMAGE)

    code, out, _ = run(capsys, command, "--config", SHIPPED, *images)

    estimate = monthly_cost(load_config(Path(SHIPPED)))
    plan = ["+ create    endpoint             pose-dev  (new)", "plan: 1 change(s), 0 unchanged"]
    printed = [f"estimated cost: {estimate.summary()}", *estimate.details(), *plan]
    assert code == 0
    assert out.splitlines()[: len(printed)] == printed
    assert read_github_output(output.read_text())["monthly_cost"] == estimate.summary()


def test_plan_as_json_prints_only_json_but_still_outputs_the_cost(capsys, tmp_path: Path, monkeypatch):
    import json

    monkeypatch.setattr(cli, "Deployer", PlannedStub)
    output = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    images = ("--inference-image", INFERENCE_IMAGE, "--monitoring-image", MONITORING_IMAGE)

    code, out, _ = run(capsys, "plan", "--json", "--config", SHIPPED, *images)

    assert code == 0 and json.loads(out)[0]["resource"] == "endpoint"
    assert read_github_output(output.read_text())["monthly_cost"].startswith("about $")
