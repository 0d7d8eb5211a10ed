"""`python -m deployment validate | plan | deploy | destroy | status | monitor | rollback | local`.

Exit codes: 0 success, 1 a deployment step failed, 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from deployment import provenance
from deployment.config import Config, load_config
from deployment.deployer import Deployer, Images
from deployment.errors import ConfigError, DeploymentError
from deployment.github_outputs import summary_cell, write_outputs
from deployment.metrics import measured_line
from deployment.resources.base import Action
from monitoring.contract import REPORT_FILE

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO, format="%(message)s")
    for chatty in ("botocore", "boto3", "urllib3"):
        logging.getLogger(chatty).setLevel(logging.DEBUG if args.debug else logging.WARNING)
    try:
        config = load_config(args.config, args.overrides)
        return args.command(args, config)
    except DeploymentError as error:
        if args.debug:
            raise
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except (ClientError, BotoCoreError) as error:
        if args.debug:
            raise
        print(f"error: AWS: {error}", file=sys.stderr)
        return DeploymentError.exit_code
    except BrokenPipeError:
        # `iam-policy | head` stopped reading: nothing left to say, nor at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _validate(args: argparse.Namespace, config: Config) -> int:
    from deployment.costs import hourly_cost

    where = "serverless" if config.endpoint.serverless else f"{config.endpoint.instance_type}"
    served = config.endpoint.models
    models = (
        f"models {', '.join(config.served_models)} (default first)"
        if served
        else f"model {config.model.name}"
    )
    print(f"{args.config} is valid: {config.prefix} in {config.project.region}, {models} on {where}")
    cost = hourly_cost(config)
    print(f"while deployed: {cost}")
    monthly = _monthly_cost(config, details=False)
    write_outputs(
        {"stage": config.project.stage, "prefix": config.prefix, "hourly_cost": cost, "monthly_cost": monthly}
    )
    return 0


def _plan(args: argparse.Namespace, config: Config) -> int:
    deployer = Deployer(config)
    planned = deployer.plan(_images(args), _artifact(args), args.commit, args.pull_request)
    write_outputs({"monthly_cost": _monthly_cost(config, details=True, show=not args.json)})
    _show(planned.actions, as_json=args.json)
    _publish_outputs(deployer.outputs(), planned.actions)
    return 0


def _deploy(args: argparse.Namespace, config: Config) -> int:
    deployer = Deployer(config)
    planned = deployer.plan(_images(args), _artifact(args), args.commit, args.pull_request)
    write_outputs({"monthly_cost": _monthly_cost(config, details=True)})
    _show(planned.actions, as_json=False)
    try:
        deployer.apply(planned)
    except (DeploymentError, ClientError, BotoCoreError):
        write_outputs({"billed": deployer.billed()})
        raise
    outputs = deployer.outputs()
    if args.approve:  # only now: a failed or rolled-back update raised above, its version unapproved
        approved = deployer.approve(planned)
        outputs["approved_versions"] = " ".join(str(version.version) for version in approved)
    _publish_outputs(outputs, planned.actions)
    for key, value in outputs.items():
        print(f"{key}={value}")
    if config.alerts.emails:
        _, pending = deployer.alerts()
        if pending:
            print(
                f"alerts: {len(pending)} address(es) must confirm the email SNS sent before alerts reach them: "
                + ", ".join(pending)
            )
    return 0


def _destroy(args: argparse.Namespace, config: Config) -> int:
    deployer = Deployer(config)
    actions = deployer.plan_destroy()
    _show(actions, as_json=False)
    deployer.destroy(actions)
    print(f"destroyed {config.prefix}: {len(actions)} resources removed")
    return 0


def _iam_policy(args: argparse.Namespace, config: Config) -> int:
    from deployment.boundary_policy import boundary_policy
    from deployment.deploy_policy import ENVIRONMENTS, Project, deploy_policy, trust_policy
    from deployment.session_policy import packed, session_policy

    account_id = args.account_id
    if account_id is None:
        from deployment.aws import connect

        account_id = connect(config.project.region).identity.account_id()
    if not re.fullmatch(r"[0-9]{12}", account_id):
        raise ConfigError(f"{account_id!r} is not a 12-digit AWS account id", where="--account-id")
    if args.session:
        text = packed(session_policy(config, account_id))
        print(text)
        write_outputs({"session_policy": text})
        return 0
    if args.trust:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", args.trust):
            raise ConfigError(f"{args.trust!r} is not OWNER/REPO", where="--trust")
        unknown = sorted(set(args.environments or ()) - set(ENVIRONMENTS))
        if unknown:
            raise ConfigError(f"{unknown[0]!r} is none of {', '.join(ENVIRONMENTS)}", where="--environment")
        document = trust_policy(account_id, args.trust, tuple(args.environments or ENVIRONMENTS))
    elif args.boundary:
        document = boundary_policy(Project.of(config, account_id))
    else:
        document = deploy_policy(Project.of(config, account_id))
    print(json.dumps(document, indent=2))
    return 0


def _status(args: argparse.Namespace, config: Config) -> int:
    deployer = Deployer(config)
    aws, names = deployer.connect()
    endpoint = aws.sagemaker.describe_endpoint(names.endpoint)
    print(
        f"endpoint {names.endpoint}: {endpoint.status + ' on ' + endpoint.config_name if endpoint else 'absent'}"
    )
    schedule = aws.sagemaker.schedule_status(names.monitoring_schedule)
    print(f"monitoring schedule {names.monitoring_schedule}: {schedule or 'absent'}")
    if schedule:
        latest = aws.sagemaker.latest_execution(names.monitoring_schedule)
        print(f"latest monitoring run: {latest['MonitoringExecutionStatus'] if latest else 'none yet'}")
    outputs = deployer.outputs()
    for key in ("api_url", "web_url", "dashboard_url"):
        print(f"{key}: {outputs.get(key, 'absent')}")
    alerts, pending = deployer.alerts()
    for alert in alerts:
        print(f"alarm {alert.name}: {alert.state or 'unknown'}")
    for email in pending:
        print(f"alerts: {email} has not confirmed its subscription yet")
    return 0 if endpoint and endpoint.status == "InService" else 1


def _batch(args: argparse.Namespace, config: Config) -> int:
    result = Deployer(config).batch(args.input, args.output, args.instances, args.instance_type)
    where = result.output_uri
    if result.status != "Completed":
        print(f"batch: {result.status}: {result.reason or 'no reason given'}", file=sys.stderr)
        return 1
    print(f"batch: {result.results} result(s) for {result.inputs} photo(s) in {where}")
    _publish_outputs({"batch_output": where, "batch_results": str(result.results)}, None)
    return 0 if result.results == result.inputs else 1


def _models(args: argparse.Namespace, config: Config) -> int:
    listed = Deployer(config).models()
    if not listed:
        print(f"no model registered yet in group {config.project.name}")
        return 0
    for version, stages in listed:
        metadata = dict(version.metadata)
        where = ", ".join(stages) if stages else "no stage"
        pull = f"PR #{version.pull_request}" if version.pull_request else "no PR"
        print(
            f"{version.version:>4}  {version.status:<22} {metadata.get('model', '?'):<20} "
            f"commit {metadata.get('commit', '?')[:12]:<12} {pull:<9} {measured_line(version):<28}  "
            f"registered by {metadata.get('pose:stage', '?')}; runs on {where}"
        )
    return 0


def _rollback(args: argparse.Namespace, config: Config) -> int:
    deployer = Deployer(config)
    rollback = deployer.plan_rollback()
    print(rollback.headline())
    for passed in rollback.passed_over:
        print(f"  {passed}")
    _show(rollback.plan.actions, as_json=False)
    deployer.apply(rollback.plan)
    print(rollback.done())
    versions = ",".join(str(version) for version in rollback.versions)
    _publish_outputs({"model_version": versions}, rollback.plan.actions)
    return 0


def _local(args: argparse.Namespace, config: Config) -> int:
    from deployment.local.stack import LocalPaths, run_local

    run_local(config, LocalPaths(args.state_dir))
    return 0


def _monitor(args: argparse.Namespace, config: Config) -> int:
    if not args.now:
        raise ConfigError("only --now is supported: the schedule runs hourly by itself", where="monitor")
    if args.local:
        return _monitor_local(args, config)
    status, message = Deployer(config).monitor_now()
    print(f"monitoring run: {message if message.startswith(status) else f'{status}: {message}'}")
    _publish_outputs({"monitoring_status": status, "monitoring_message": message}, None)
    return 0 if status in {"Completed", "CompletedWithViolations"} else 1


def _monitor_local(args: argparse.Namespace, config: Config) -> int:
    from deployment.local.schedule import run_monitoring
    from deployment.local.stack import LocalPaths, monitor_settings

    run = run_monitoring(monitor_settings(config, LocalPaths(args.state_dir)))
    print(f"monitoring run: {run.message}")
    print(f"report: {run.directory / REPORT_FILE}")
    return 0 if run.exit_code == 0 else 1


def _monthly_cost(config: Config, details: bool, show: bool = True) -> str:
    """Print the estimated monthly cost (with each item's arithmetic when `details`); return its one line.
    `plan` and `deploy` print it above the actions, so the plan's own summary stays the last line."""
    from deployment.costs import monthly_cost

    estimate = monthly_cost(config)
    if show:
        print(f"estimated cost: {estimate.summary()}")
        if details:
            print("\n".join(estimate.details()))
    return estimate.summary()


def _images(args: argparse.Namespace) -> Images:
    return Images(args.inference_image, args.monitoring_image)


def _artifact(args: argparse.Namespace) -> Path | None:
    return Path(args.model_artifact) if args.model_artifact else None


def _show(actions: list[Action], as_json: bool) -> None:
    if as_json:
        print(json.dumps([action.to_json() for action in actions], indent=2))
        return
    for action in actions:
        reason = f"  ({action.reason})" if action.reason else ""
        print(f"{_SYMBOL[action.verb]} {action.verb:<9} {action.kind:<20} {action.name}{reason}")
    changes = sum(action.mutates for action in actions)
    print(f"plan: {changes} change(s), {len(actions) - changes} unchanged" if changes else "plan: no changes")


_SYMBOL = {"create": "+", "update": "~", "delete": "-", "unchanged": "="}


def _publish_outputs(outputs: dict[str, str], actions: list[Action] | None) -> None:
    """GitHub Actions step outputs and job summary, when running there (plan_changes for plans)."""
    plan = {} if actions is None else {"plan_changes": str(sum(action.mutates for action in actions))}
    write_outputs({**outputs, **plan})
    if path := os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(path, "a", encoding="utf-8") as stream:
            stream.write("| output | value |\n| --- | --- |\n")
            stream.writelines(f"| {key} | `{summary_cell(value)}` |\n" for key, value in outputs.items())
            if actions:
                stream.write("\n| action | resource | name |\n| --- | --- | --- |\n")
                stream.writelines(f"| {a.verb} | {a.kind} | `{a.name}` |\n" for a in actions if a.mutates)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m deployment", description=__doc__)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, default=Path("config.yml"), help="default: config.yml")
    common.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="override a value",
    )
    common.add_argument(
        "--stage",
        action=_Stage,
        dest="overrides",
        metavar="STAGE",
        help="the same as --set project.stage=STAGE",
    )
    common.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = root.add_subparsers(required=True, metavar="COMMAND")
    for name, handler, text in (
        ("validate", _validate, "check config.yml (and --set overrides) without calling AWS"),
        ("plan", _plan, "show what deploy would change"),
        ("deploy", _deploy, "make AWS match config.yml"),
        ("destroy", _destroy, "remove everything this deployment created"),
        ("status", _status, "endpoint and monitoring status"),
        ("monitor", _monitor, "run the monitoring job now over the last hour"),
        ("batch", _batch, "every photo under an S3 prefix through the deployed model (Batch Transform)"),
        (
            "models",
            _models,
            "the project's model registry: each version, its status, pull request, metrics and the stages running it",
        ),
        ("rollback", _rollback, "put the stage back on the approved model version before the one it runs"),
        ("local", _local, "run the whole system offline on 127.0.0.1 (make demo)"),
        ("iam-policy", _iam_policy, "print the GitHub deploy role's least-privilege policy"),
    ):
        command = commands.add_parser(name, parents=[common], help=text)
        command.set_defaults(command=handler)
        if name in ("plan", "deploy"):
            command.add_argument("--inference-image", default=os.environ.get("INFERENCE_IMAGE"))
            command.add_argument("--monitoring-image", default=os.environ.get("MONITORING_IMAGE"))
            command.add_argument("--model-artifact", help="a model.tar.gz (default: package config.model)")
            command.add_argument(
                "--commit", default=provenance.commit(), help="recorded in the model registry"
            )
            command.add_argument(
                "--pull-request",
                type=provenance.pull_request_number,
                default=provenance.pull_request(),
                metavar="N",
                help="recorded in the model registry (default: GITHUB_REF refs/pull/N/merge, or the event's)",
            )
        if name == "deploy":
            command.add_argument(
                "--approve", action="store_true", help="once in service, mark its registry version Approved"
            )
        if name == "plan":
            command.add_argument("--json", action="store_true", help="print the plan as JSON")
        if name == "monitor":
            command.add_argument(
                "--now", action="store_true", help="one run over the last hour, and wait for it"
            )
            command.add_argument("--local", action="store_true", help="over the local stack's captured data")
        if name == "batch":
            command.add_argument("input", help="s3://bucket/prefix/ holding the photos")
            command.add_argument(
                "--output", help="s3://bucket/prefix/ for the results (default: under the stage)"
            )
            command.add_argument(
                "--instances", type=int, default=1, help="instances to spread the photos over"
            )
            command.add_argument("--instance-type", help="default: endpoint.instance_type")
        if name in ("monitor", "local"):
            command.add_argument("--state-dir", type=Path, default=Path(".local"), help="default: .local")
        if name == "iam-policy":
            _iam_policy_arguments(command)
    return root


class _Stage(argparse.Action):
    """`--stage prod`: one more `--set project.stage=prod`, in its place among the others."""

    def __call__(self, parser, namespace, value, option_string=None) -> None:
        namespace.overrides = [*(namespace.overrides or []), f"project.stage={value}"]


def _iam_policy_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--account-id", help="default: the account of the current credentials")
    document = command.add_mutually_exclusive_group()
    document.add_argument("--trust", metavar="OWNER/REPO", help="print the role's OIDC trust policy instead")
    document.add_argument(
        "--boundary", action="store_true", help="print the permissions boundary of the roles the engine makes"
    )
    document.add_argument(
        "--session",
        action="store_true",
        help="print this stage's STS session policy (compact JSON; also the step output session_policy)",
    )
    command.add_argument(
        "--environment",
        dest="environments",
        action="append",
        metavar="NAME",
        help="with --trust: only this GitHub Environment (repeatable; default: all the workflows use)",
    )
