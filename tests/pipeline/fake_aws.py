"""AWS for the pipeline: moto's server on 127.0.0.1, every request recorded, and in front of it the
stand-ins for what moto lacks (`sagemaker_gaps.py`).

Runs in the test process (moto's state is then readable and, for UpdateEndpoint, writable), in a
thread of its own. The workflow's steps reach it through AWS_ENDPOINT_URL. The harness itself
looks at the account through `console()`, whose requests are not recorded.
"""

from __future__ import annotations

import importlib.util
import io
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from html import escape

import boto3
from botocore.config import Config
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request

from tests.pipeline.sagemaker_gaps import SageMakerGaps
from tests.pipeline.service_model import Refused
from tests.pipeline.sts_gaps import check_web_identity

HARNESS_KEY = "AKIAPIPELINEHARNESS0"  # the harness's own look at the account: never recorded
CREDENTIAL = re.compile(r"Credential=([^/]+)/[^/]+/([^/]+)/([^/]+)/aws4_request")


@dataclass(frozen=True)
class Call:
    service: str  # the signing name: sagemaker, s3, iam, sts, ecr, apigateway...
    operation: str  # X-Amz-Target's or the query Action's name, else "METHOD /path"
    access_key: str  # "" for unsigned requests (AssumeRoleWithWebIdentity)
    status: int
    params: dict  # the JSON body or the query form; {} for REST services
    error: str = ""


@dataclass
class FakeAws:
    calls: list[Call] = field(default_factory=list)
    # operation -> what runs before it is answered (a test's fault, such as an image deleted meanwhile)
    before: dict[str, Callable[[dict], None]] = field(default_factory=dict)
    url: str = ""

    def __post_init__(self) -> None:
        self.gaps = SageMakerGaps(self.console)
        self._moto = DomainDispatcherApplication(create_backend_app)
        self._lock = threading.Lock()

    def start(self) -> None:
        _apply_moto_fixes()
        self._server = make_server("127.0.0.1", 0, self, threaded=True, request_handler=_Quiet)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join()

    def console(self) -> Console:
        return Console(self.url)

    def __call__(self, environ: dict, start_response) -> list[bytes]:
        request = Request(environ)
        body = request.get_data(cache=True)
        environ["wsgi.input"] = io.BytesIO(body)
        match = CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        access_key, region, service = match.groups() if match else ("", "us-east-1", "")
        operation, params = _operation(environ, request, body)
        if not service and operation.startswith("AssumeRoleWith"):
            service = "sts"
        recorded = access_key != HARNESS_KEY
        try:
            if operation in self.before:
                self.before.pop(operation)(params)
            answer = None
            if operation == "AssumeRoleWithWebIdentity":
                check_web_identity(params, self.console())
            if service == "sagemaker" and operation in SageMakerGaps.OPERATIONS:
                answer = self.gaps.answer(operation, params, region)
        except Refused as refused:
            self._record(recorded, Call(service, operation, access_key, refused.status, params, refused.code))
            return _refusal(service, refused, start_response)
        if answer is not None:
            self._record(recorded, Call(service, operation, access_key, 200, params))
            start_response("200 OK", [("Content-Type", "application/x-amz-json-1.1")])
            return [json.dumps(answer, default=_epoch).encode()]
        status: list[int] = []

        def recording_start(status_line: str, headers, exc_info=None):
            status.append(int(status_line.split()[0]))
            return start_response(status_line, headers, exc_info)

        response = b"".join(self._moto(environ, recording_start))
        error = _error_code(response) if status and status[0] >= 400 else ""
        self._record(
            recorded, Call(service, operation, access_key, status[0] if status else 0, params, error)
        )
        return [response]

    def _record(self, recorded: bool, call: Call) -> None:
        if recorded:
            with self._lock:
                self.calls.append(call)


class _Quiet(WSGIRequestHandler):
    """Requests are recorded in FakeAws.calls, not logged one line each."""

    def log_request(self, *args) -> None:
        pass


def _operation(environ: dict, request: Request, body: bytes) -> tuple[str, dict]:
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            params = {}
        return target.rsplit(".", 1)[-1], params if isinstance(params, dict) else {}
    form = request.form.to_dict() if request.mimetype == "application/x-www-form-urlencoded" else {}
    query = request.args.to_dict()
    action = form.get("Action") or query.get("Action")
    if action:
        return action, form or query
    return f"{request.method} {request.path}", {}


def _refusal(service: str, refused: Refused, start_response) -> list[bytes]:
    """The error in the service's protocol: JSON for SageMaker, XML for STS (a query service)."""
    status = f"{refused.status} {'Forbidden' if refused.status == 403 else 'Bad Request'}"
    if service == "sts":
        body = (
            '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
            f"<Code>{escape(refused.code)}</Code><Message>{escape(refused.message)}</Message></Error>"
            "<RequestId>pipeline-test</RequestId></ErrorResponse>"
        )
        start_response(status, [("Content-Type", "text/xml")])
        return [body.encode()]
    start_response(status, [("Content-Type", "application/x-amz-json-1.1")])
    return [json.dumps({"__type": refused.code, "message": refused.message}).encode()]


def _error_code(response: bytes) -> str:
    text = response[:2000].decode(errors="replace")
    found = re.search(r"<Code>([^<]+)</Code>|\"__type\":\s*\"(?:[^\"#]*#)?([^\"]+)\"", text)
    return next((group for group in found.groups() if group), "") if found else ""


def _epoch(value: object) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(f"{type(value).__name__} is not JSON")


class Console:
    """boto3 clients onto the fake, signed with the harness's key, with no retries to hide a fault."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._session = boto3.Session(
            aws_access_key_id=HARNESS_KEY, aws_secret_access_key="harness", region_name="us-east-1"
        )

    def client(self, service: str, region_name: str = "us-east-1"):
        config = Config(retries={"max_attempts": 1}, read_timeout=600)
        return self._session.client(service, region_name=region_name, endpoint_url=self._url, config=config)


def _apply_moto_fixes() -> None:
    """The project's own corrections of moto (tests/moto/deployment/moto_gaps.py), where present."""
    if importlib.util.find_spec("tests.moto.deployment.moto_gaps") is None:
        return
    from tests.moto.deployment import moto_gaps

    for owner, attribute, value in moto_gaps.replacements():
        setattr(owner, attribute, value)
