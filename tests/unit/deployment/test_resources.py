"""The resource registry and the layering: every kind has one handler, aws/ knows only the models,
and placeholders are filled in from what earlier actions recorded (or refused, named)."""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from deployment.errors import DeploymentError
from deployment.planner import plan, plan_destroy
from deployment.resources import MODULES, REGISTRY
from deployment.resources.access_control import ACCESS_CONTROL_ID, AccessControl
from deployment.resources.base import Action, Kind, Resource, Run, Verb
from deployment.resources.distribution import Distribution
from deployment.resources.placeholders import Template, Variable, is_pending, resolve
from tests.conftest import REPO
from tests.unit.deployment.builders import changes, deployed, desired
from tests.unit.deployment.fakes import FakeAws, FakeClock, executor, run

# What the AWS layer may not depend on: the planning, the composition of desired state, the CLI.
ABOVE_AWS = {
    "deployment.planner",
    "deployment.api_plan",
    "deployment.web_plan",
    "deployment.state",
    "deployment.api_state",
    "deployment.web_state",
    "deployment.remote",
    "deployment.executor",
    "deployment.deployer",
    "deployment.cli",
}


def imported_modules(path: Path) -> set[str]:
    """What a module imports when it runs (imports for type annotations only are left out)."""
    tree = ast.parse(path.read_text())
    type_only = {
        id(child)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
        for child in ast.walk(node)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("path", sorted((REPO / "deployment" / "aws").glob("*.py")), ids=lambda p: p.name)
def test_the_aws_layer_imports_models_never_the_planner_or_the_cli(path: Path):
    assert imported_modules(path) & ABOVE_AWS == set()


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[1])
def test_resource_modules_never_import_boto3_or_the_aws_layer(module):
    modules = imported_modules(Path(module.__file__))
    assert not {name for name in modules if name == "boto3" or name.startswith("deployment.aws")}


def test_every_kind_has_exactly_one_handler():
    handlers = [handler for module in MODULES for handler in module.RESOURCES]
    assert sorted(handler.kind for handler in handlers) == sorted(Kind)
    assert all(REGISTRY[handler.kind] is handler for handler in handlers)


def test_a_kind_or_verb_that_does_not_exist_fails_where_the_action_is_made():
    with pytest.raises(ValueError, match="'modle' is not a valid Kind"):
        Action("create", "modle", "pose-dev")
    with pytest.raises(ValueError, match="'upsert' is not a valid Verb"):
        Action("upsert", "model", "pose-dev")
    assert Action("create", "model", "pose-dev").kind is Kind.MODEL


@pytest.mark.parametrize("kind", [Kind.ARTIFACT, Kind.BUCKET_FOLDER, Kind.WEB_INVALIDATION])
def test_a_verb_a_kind_does_not_support_is_an_error_naming_it(kind: Kind):
    supported = {verb for verb in (Verb.CREATE, Verb.UPDATE, Verb.DELETE) if _supports(kind, verb)}
    unsupported = sorted({Verb.CREATE, Verb.UPDATE, Verb.DELETE} - supported)
    assert unsupported  # each of these kinds has one verb only
    for verb in unsupported:
        with pytest.raises(DeploymentError, match=f"x: no way to {verb} a {kind}"):
            getattr(REGISTRY[kind], verb)(run(FakeAws(FakeClock()), []), Action(verb, kind, "x"))


def _supports(kind: Kind, verb: Verb) -> bool:
    """Whether the kind's handler overrides the base class's refusal of `verb`."""
    return getattr(type(REGISTRY[kind]), verb) is not getattr(Resource, verb)


@dataclass(frozen=True)
class Inner:
    arn: str | Template
    names: tuple[str | Variable, ...]


@dataclass(frozen=True)
class Outer:
    name: str
    inner: Inner
    target: str | Variable


def test_placeholders_are_filled_in_everywhere_in_a_resource():
    pending = Outer(
        "x",
        Inner(
            Template.of("arn:aws:execute-api:us-east-1:1:{api}/*", api=Variable("api.id")),
            ("a", Variable("web.origin")),
        ),
        Variable("api.integration_id"),
    )
    known = {"api.id": "abc", "web.origin": "https://d1.cloudfront.net", "api.integration_id": "int1"}

    assert resolve(pending, known, "here") == Outer(
        "x", Inner("arn:aws:execute-api:us-east-1:1:abc/*", ("a", "https://d1.cloudfront.net")), "int1"
    )
    assert pending.inner.arn.names == ("api.id",)
    assert is_pending(pending.target) and not is_pending("int1")


def test_a_value_with_no_placeholder_is_returned_as_it_is():
    done = Outer("x", Inner("arn", ("a",)), "int1")
    assert resolve(done, {}, "here") is done


def test_a_placeholder_nothing_recorded_is_an_error_naming_the_value_and_the_action():
    with pytest.raises(DeploymentError, match="lambda-permission p: needs the api id of a resource created"):
        resolve(Template.of("{id}/*", id=Variable("api.id")), {}, "lambda-permission p")


def test_the_executor_records_what_a_handler_learns_for_the_actions_after_it():
    # The access control's new id reaches the distribution created after it, through a Variable.
    aws = FakeAws(FakeClock())
    distribution = Distribution("comment", "b.s3.us-east-1.amazonaws.com", ACCESS_CONTROL_ID, reference="r")
    actions = [
        Action("create", "web-oac", "oac", target=AccessControl("oac", "d")),
        Action("create", "web-distribution", "r", target=distribution),
    ]

    executor(aws, []).run(actions)

    created = [args for service, method, args in aws.calls if (service, method) == ("cdn", "create")]
    assert created[0][0].access_control_id == "E1OACEXAMPLE"  # what the fake CloudFront assigned


def test_the_run_a_handler_gets_carries_the_tags_and_reports_through_the_callback():
    lines: list[str] = []
    current = run(FakeAws(FakeClock()), lines)
    assert isinstance(current, Run) and current.tags == (("pose:deployment", "pose-dev"),)
    current.report("hello")
    assert lines == ["hello"]


def test_a_standalone_kind_is_planned_by_name_and_one_config_no_longer_asks_for_is_deleted():
    state = desired()
    extra = replace(state.alarms[0], name="pose-dev-old-alarm")
    raised = replace(state.alarms[1], threshold=state.alarms[1].threshold * 2)
    deployed_state = deployed(state)
    remote = replace(
        deployed_state, found={**deployed_state.found, Kind.ALARM: (state.alarms[0], raised, extra)}
    )

    actions = plan(state, remote)

    assert changes(actions) == [
        ("update", "alarm", "pose-dev-model-latency"),
        ("delete", "alarm", "pose-dev-old-alarm"),
    ]
    deleted = next(action for action in actions if action.verb == "delete")
    assert (deleted.reason, deleted.target) == ("config.yml no longer asks for it", extra)


def test_destroy_removes_every_standalone_resource_found():
    state = desired()
    actions = plan_destroy(state.names, deployed(state))

    alarms = [(a.verb, a.name) for a in actions if a.kind == Kind.ALARM]  # and the alerts, the dashboard
    assert alarms == [("delete", "pose-dev-invocation-5xx"), ("delete", "pose-dev-model-latency")]
    kinds = [a.kind for a in actions]
    assert kinds.index(Kind.ENDPOINT) < kinds.index(Kind.ALARM)  # the endpoint's update named them
