"""Model metrics on registry versions: the committed results file, matching a packaged model to it
by its files' sha256, the statistics document next to the artifact, and what the plan says."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest

from deployment.config import parse_config
from deployment.metrics import (
    NOT_MEASURED,
    RESULTS,
    RESULTS_NAME,
    Quality,
    load_results,
    measured_line,
    quality_of,
    statistics_artifact,
    statistics_document,
)
from deployment.planner import plan
from deployment.provenance import pull_request, pull_request_number
from deployment.remote import RemoteState
from deployment.resources.base import Kind, Verb
from deployment.resources.registry import with_notes
from deployment.state import Inputs, desired_state
from inference.catalog import CATALOG
from tests.unit.deployment.builders import (
    ACCOUNT,
    ARTIFACT_SHA,
    INFERENCE_IMAGE,
    MONITORING_IMAGE,
    desired,
    inputs,
)
from tests.unit.deployment.metrics_builders import measured, packaged
from tests.unit.deployment.test_multi_model_plan import packaged as packaged_set

# ---------------------------------------------------------------- the committed results


def test_every_measured_model_has_the_catalogs_current_files_so_a_changed_model_must_be_measured_again():
    document = json.loads(RESULTS.read_text())
    for entry in document["models"]:
        spec = CATALOG[entry["name"]]
        assert entry["version"] == spec.version, entry["name"]
        assert entry["files"] == {f.filename: f.sha256 for f in spec.files}, entry["name"]


def test_every_catalog_model_is_measured_or_skipped_with_a_reason():
    document = json.loads(RESULTS.read_text())
    measured_names = [entry["name"] for entry in document["models"]]
    skipped = {entry["name"]: entry["reason"] for entry in document["skipped"]}

    assert sorted(measured_names + list(skipped)) == sorted(CATALOG)
    assert all(reason.strip() for reason in skipped.values())
    assert {"blazepose-heavy", "blazepose-full", "blazepose-lite"} <= set(measured_names)


def test_each_entry_says_what_was_measured_on_what_when_and_how():
    for entry in load_results():
        assert 0.0 < entry.torso_pck <= 1.0 and 0.0 < entry.bbox_pck <= 1.0, entry.name
        assert entry.threshold == 0.2 and entry.photos > 0 and entry.eval_set
        assert len(entry.without_person) <= entry.photos
        assert date.fromisoformat(entry.date) <= date.today()
        assert entry.command.startswith(".venv/bin/python benchmarks/model_metrics.py")
    raw = json.loads(RESULTS.read_text())["models"]
    assert all(item["misses"] == len(item["without_person"]) for item in raw)


# ---------------------------------------------------------------- matching an artifact


def test_a_catalog_model_as_packaged_is_matched_and_its_statistics_written(tmp_path):
    entry = measured()
    artifact = packaged(tmp_path, entry.name)

    quality = quality_of(artifact, tmp_path / "out")

    assert quality.measurement == entry
    written = (tmp_path / "out").glob("model-quality-*.json")
    (path,) = list(written)
    assert str(path) == quality.path and path.read_bytes() == statistics_document(entry)
    statistics = json.loads(path.read_text())
    assert statistics["pose_metrics"]["torso_pck@0.2"] == {"value": round(entry.torso_pck, 4)}
    assert statistics["dataset"]["item_count"] == entry.photos
    assert statistics["model"]["files"] == dict(entry.files)


def test_a_model_whose_files_differ_from_every_entry_gets_no_metrics_and_says_why(tmp_path):
    name = measured().name
    changed = {f.filename: "0" * 64 for f in CATALOG[name].files}
    quality = quality_of(packaged(tmp_path, name, changed), tmp_path / "out")

    assert quality.measurement is None and not (tmp_path / "out").exists()
    assert quality.reason == f"{NOT_MEASURED} (its files' sha256 match no entry of {RESULTS_NAME})"


def test_an_artifact_without_model_json_gets_no_metrics(tmp_path):
    not_a_model = tmp_path / "model.tar.gz"
    not_a_model.write_bytes(b"not even gzip")

    quality = quality_of(not_a_model, tmp_path / "out")

    assert quality.reason == f"{NOT_MEASURED} (the artifact has no readable model.json)"


def test_without_the_results_file_nothing_is_measured(tmp_path):
    artifact = packaged(tmp_path, measured().name)

    assert quality_of(artifact, tmp_path / "out", results=tmp_path / "absent.json").measurement is None


# ---------------------------------------------------------------- the desired state and the plan


def quality(tmp_path) -> Quality:
    return quality_of(packaged(tmp_path, measured().name), tmp_path / "out")


def test_the_statistics_go_next_to_the_artifact_named_by_their_content(tmp_path):
    measured_quality = quality(tmp_path)
    state = desired_state(
        parse_config({}), replace(inputs(), qualities=(measured_quality,), pull_request="42"), ACCOUNT
    )
    (version,) = state.standalone[Kind.MODEL_VERSION]
    (statistics,) = state.statistics
    folder = state.artifact.key.removesuffix("model.tar.gz")

    assert statistics.key == f"{folder}model-quality-{measured_quality.sha256[:16]}.json"
    assert (statistics.bucket, statistics.local_path) == (state.artifact.bucket, measured_quality.path)
    assert (version.metrics_uri, version.metrics_sha256) == (statistics.s3_uri, measured_quality.sha256)
    metadata = dict(version.metadata)
    entry = measured_quality.measurement
    assert (metadata["torso_pck"], metadata["bbox_pck"], metadata["pull_request"]) == (
        f"{entry.torso_pck:.3f}",
        f"{entry.bbox_pck:.3f}",
        "42",
    )
    assert version.pull_request == "42" and measured_line(version).startswith("PCK torso ")


def test_metrics_are_not_identity_so_an_existing_version_is_not_registered_again(tmp_path):
    before = desired()
    after = desired_state(parse_config({}), replace(inputs(), qualities=(quality(tmp_path),)), ACCOUNT)

    assert after.standalone[Kind.MODEL_VERSION] == before.standalone[Kind.MODEL_VERSION]
    assert (
        after.standalone[Kind.MODEL_VERSION][0].identity == before.standalone[Kind.MODEL_VERSION][0].identity
    )


def test_the_plan_uploads_the_statistics_and_says_what_the_new_version_records(tmp_path):
    state = desired_state(parse_config({}), replace(inputs(), qualities=(quality(tmp_path),)), ACCOUNT)

    actions = with_notes(plan(state, RemoteState()))

    uploads = [a.name for a in actions if a.kind == Kind.ARTIFACT and a.verb == Verb.CREATE]
    assert uploads == [state.artifact.s3_uri, state.statistics[0].s3_uri]
    (registration,) = [a for a in actions if a.kind == Kind.MODEL_VERSION]
    assert registration.reason == f"blazepose-heavy: model metrics {measured().summary()}"


def test_a_statistics_object_already_there_is_not_uploaded_again_and_a_missing_one_is(tmp_path):
    state = desired_state(parse_config({}), replace(inputs(), qualities=(quality(tmp_path),)), ACCOUNT)
    artifact_only = RemoteState(artifacts_found=frozenset({state.artifact.s3_uri}))
    both = replace(
        artifact_only, artifacts_found=artifact_only.artifacts_found | {state.statistics[0].s3_uri}
    )

    missing = [a.name for a in plan(state, artifact_only) if a.kind == Kind.ARTIFACT and a.mutates]
    present = [a.name for a in plan(state, both) if a.kind == Kind.ARTIFACT and a.mutates]

    assert (missing, present) == ([state.statistics[0].s3_uri], [])


def test_an_unmeasured_model_is_registered_without_metrics_and_the_plan_says_why():
    unmeasured = Quality(reason=f"{NOT_MEASURED} (its files' sha256 match no entry of {RESULTS_NAME})")
    state = desired_state(parse_config({}), replace(inputs(), qualities=(unmeasured,)), ACCOUNT)

    actions = with_notes(plan(state, RemoteState()))

    (version,) = state.standalone[Kind.MODEL_VERSION]
    assert state.statistics == () and version.metrics_uri == "" and "torso_pck" not in dict(version.metadata)
    (registration,) = [a for a in actions if a.kind == Kind.MODEL_VERSION]
    assert registration.reason == f"blazepose-heavy: no model metrics: {unmeasured.reason}"
    assert measured_line(version) == "no metrics"


def test_each_model_of_a_multi_model_stage_gets_its_own_metrics_next_to_its_own_artifact(tmp_path):
    lite = quality_of(packaged(tmp_path, "blazepose-lite"), tmp_path / "out")
    heavy = quality_of(packaged(tmp_path, "blazepose-heavy"), tmp_path / "out")
    config = parse_config(
        {"endpoint": {"models": ["blazepose-heavy", "blazepose-lite", "movenet-lightning"]}}
    )
    models = packaged_set(
        {"blazepose-heavy": ARTIFACT_SHA, "blazepose-lite": "d" * 64, "movenet-lightning": "e" * 64}
    )
    none = Quality(reason=NOT_MEASURED)
    state = desired_state(
        config,
        Inputs(
            INFERENCE_IMAGE,
            MONITORING_IMAGE,
            models[0].path,
            models[0].sha256,
            "abc",
            models,
            "",
            (heavy, lite, none),
        ),
        ACCOUNT,
    )

    versions = state.standalone[Kind.MODEL_VERSION]
    prefix = state.model.model_data_url.removeprefix(f"s3://{state.bucket.name}/")
    assert [s.key for s in state.statistics] == [
        f"{prefix}blazepose-heavy-quality-{heavy.sha256[:16]}.json",
        f"{prefix}blazepose-lite-quality-{lite.sha256[:16]}.json",
    ]
    assert [v.metrics_uri for v in versions] == [s.s3_uri for s in state.statistics] + [""]
    assert [dict(v.metadata).get("torso_pck") for v in versions] == [
        f"{heavy.measurement.torso_pck:.3f}",
        f"{lite.measurement.torso_pck:.3f}",
        None,
    ]


def test_no_statistics_artifact_without_a_measurement():
    state = desired()

    assert statistics_artifact(Quality(reason=NOT_MEASURED), state.artifact) is None


# ---------------------------------------------------------------- the pull request


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"GITHUB_REF": "refs/pull/17/merge"}, "17"),
        ({"GITHUB_REF": "refs/pull/3/head"}, "3"),
        ({"GITHUB_REF": "refs/heads/main"}, ""),
        ({}, ""),
    ],
)
def test_the_pull_request_comes_from_githubs_ref(environ, expected):
    assert pull_request(environ) == expected


def test_else_from_the_events_payload_and_never_from_an_unreadable_one(tmp_path):
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 23}}))
    push = tmp_path / "push.json"
    push.write_text(json.dumps({"ref": "refs/heads/main", "head_commit": {"id": "abc"}}))
    broken = tmp_path / "broken.json"
    broken.write_text("{")

    found = [
        pull_request({"GITHUB_EVENT_PATH": str(path)}) for path in (event, push, broken, tmp_path / "none")
    ]

    assert found == ["23", "", "", ""]


@pytest.mark.parametrize("value", ["#12", "12a", "0", "-3"])
def test_a_pull_request_that_is_not_a_number_is_refused(value):
    with pytest.raises(ValueError, match="is not a pull request number"):
        pull_request_number(value)


@pytest.mark.parametrize("content", ["{", '{"models": [{"name": "x"}]}', '["not", "an", "object"]'])
def test_a_broken_results_file_is_no_metrics_with_the_reason_not_a_failed_deploy(tmp_path, content):
    results = tmp_path / "model_metrics.json"
    results.write_text(content)
    artifact = packaged(tmp_path, measured().name)

    quality = quality_of(artifact, tmp_path / "out", results=results)

    assert quality.measurement is None
    assert quality.reason.startswith(f"{NOT_MEASURED} ({RESULTS_NAME} is unreadable (")
