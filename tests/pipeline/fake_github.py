"""GitHub for the pipeline, on 127.0.0.1: the REST calls `actions/github-script` makes for the
deployment comment and to find the pull request a commit on main merged, and the OIDC token
endpoint `configure-aws-credentials` asks for a token.

Every request is recorded. The comment routes keep the comments of each issue, as GitHub does;
anything else is a 404, recorded, so a test can see a call nobody expected. Tokens are JWTs with
GitHub's claims for the job that asks (its `sub` names the job's environment, if it has one).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

API_TOKEN = "ghs_pipeline-test-token"  # the GITHUB_TOKEN secret given to act
ID_TOKEN_REQUEST_TOKEN = "pipeline-id-token-request-token"
OIDC_ISSUER = "https://token.actions.githubusercontent.com"
SIGNING_KEY = b"pipeline-test-oidc-key"  # HS256: only this harness signs and reads these tokens
COMMENTS = re.compile(r"/repos/([^/]+)/([^/]+)/issues/(\d+)/comments")
COMMENT = re.compile(r"/repos/([^/]+)/([^/]+)/issues/comments/(\d+)")
COMMIT_PULLS = re.compile(r"/repos/([^/]+)/([^/]+)/commits/([0-9a-f]{40})/pulls")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict
    body: dict | None
    authorization: str
    status: int


@dataclass(frozen=True)
class RunningJob:
    """The job act is running now, as its workflow declares it (GitHub derives the token from it)."""

    job_id: str
    environment: str  # "" when the job has none
    id_token: bool  # permissions: id-token: write


@dataclass
class FakeGitHub:
    repository: str
    requests: list[Request] = field(default_factory=list)
    comments: dict[int, list[dict]] = field(default_factory=dict)  # issue number -> its comments
    tokens: list[dict] = field(default_factory=list)  # the claims of every token issued
    refused_tokens: list[str] = field(default_factory=list)  # jobs that asked without id-token: write
    job: RunningJob | None = None
    event: dict = field(default_factory=dict)  # the running workflow's event payload
    event_name: str = "pull_request"
    # commit sha -> the pull requests GitHub associates with it (a merge commit: the one it merged)
    pulls: dict[str, list[dict]] = field(default_factory=dict)
    url: str = ""

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._next_id = 1000

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake.handle(self)

            def do_POST(self) -> None:
                fake.handle(self)

            def do_PATCH(self) -> None:
                fake.handle(self)

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    @property
    def id_token_url(self) -> str:
        return f"{self.url}/_oidc/token?api-version=2.0"

    def handle(self, http: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(http.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        length = int(http.headers.get("Content-Length") or 0)
        raw = http.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        authorization = http.headers.get("Authorization", "")
        with self._lock:
            status, answer = self._route(http.command, parts.path, query, body, authorization)
            self.requests.append(Request(http.command, parts.path, query, body, authorization, status))
        payload = json.dumps(answer).encode()
        http.send_response(status)
        http.send_header("Content-Type", "application/json; charset=utf-8")
        http.send_header("Content-Length", str(len(payload)))
        http.end_headers()
        http.wfile.write(payload)

    def _route(self, method: str, path: str, query: dict, body: dict | None, authorization: str):
        if path == "/_oidc/token":
            return self._id_token(query, authorization)
        if authorization not in (f"token {API_TOKEN}", f"Bearer {API_TOKEN}"):
            return 401, {"message": "Bad credentials"}
        commit_pulls = COMMIT_PULLS.fullmatch(path)
        if commit_pulls and f"{commit_pulls[1]}/{commit_pulls[2]}" == self.repository and method == "GET":
            return 200, self.pulls.get(commit_pulls[3], [])
        listing, one = COMMENTS.fullmatch(path), COMMENT.fullmatch(path)
        if listing and f"{listing[1]}/{listing[2]}" == self.repository:
            issue = int(listing[3])
            if method == "GET":
                page, per_page = int(query.get("page", 1)), int(query.get("per_page", 30))
                return 200, self.comments.get(issue, [])[(page - 1) * per_page : page * per_page]
            if method == "POST" and body and isinstance(body.get("body"), str):
                return 201, self._create(issue, body["body"])
        if one and f"{one[1]}/{one[2]}" == self.repository and method == "PATCH" and body:
            for comment in (c for comments in self.comments.values() for c in comments):
                if comment["id"] == int(one[3]):
                    comment["body"] = body["body"]
                    comment["updated_at"] = _now()
                    return 200, comment
        return 404, {"message": "Not Found"}

    def _create(self, issue: int, text: str) -> dict:
        self._next_id += 1
        comment = {
            "id": self._next_id,
            "body": text,
            "user": {"login": "github-actions[bot]", "type": "Bot"},
            "created_at": _now(),
            "updated_at": _now(),
            "html_url": f"https://github.com/{self.repository}/pull/{issue}#issuecomment-{self._next_id}",
        }
        self.comments.setdefault(issue, []).append(comment)
        return comment

    def _id_token(self, query: dict, authorization: str):
        if authorization != f"Bearer {ID_TOKEN_REQUEST_TOKEN}":
            return 401, {"message": "Bad request token"}
        job = self.job
        if job is None or not job.id_token:
            # On GitHub a job without `id-token: write` gets no ACTIONS_ID_TOKEN_REQUEST_URL at all.
            self.refused_tokens.append(job.job_id if job else "?")
            return 403, {"message": "the job has no id-token: write permission"}
        claims = self._claims(job, query.get("audience", ""))
        self.tokens.append(claims)
        return 200, {"value": sign(claims)}

    def _claims(self, job: RunningJob, audience: str) -> dict:
        pull_request = self.event.get("pull_request", {})
        context = f"environment:{job.environment}" if job.environment else self.event_name
        if self.event_name == "push":
            ref, sha = self.event.get("ref", ""), self.event.get("after", "")
        else:
            ref, sha = f"refs/pull/{pull_request.get('number', 0)}/merge", pull_request.get("head", {}).get(
                "sha", ""
            )
        now = int(time.time())
        return {
            "iss": OIDC_ISSUER,
            "aud": audience,
            "sub": f"repo:{self.repository}:{context}",
            "repository": self.repository,
            "repository_owner": self.repository.split("/")[0],
            "event_name": self.event_name,
            "ref": ref,
            "sha": sha,
            "job_workflow_ref": f"{self.repository}/.github/workflows/pull-request.yml@refs/heads/main",
            "environment": job.environment or None,
            "iat": now,
            "nbf": now - 5,
            "exp": now + 300,
        }


def sign(claims: dict) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "pipeline-test"}).encode())
    payload = _b64(json.dumps(claims).encode())
    signature = hmac.new(SIGNING_KEY, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def verified_claims(token: str) -> dict | None:
    """The claims of a token this fake issued, still valid; None for anything else."""
    try:
        header, payload, signature = token.split(".")
        expected = hmac.new(SIGNING_KEY, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(_unb64(signature), expected):
            return None
        claims = json.loads(_unb64(payload))
    except ValueError:
        return None
    return claims if claims.get("exp", 0) > time.time() else None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
