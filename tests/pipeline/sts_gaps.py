"""AssumeRoleWithWebIdentity as STS checks it, which moto does not (it ignores the token and the
role's trust policy): the token must be one the fake GitHub issued, unexpired, from an OIDC provider
registered in IAM for its audience, and the role's trust policy must admit its `aud` and `sub`.

So a workflow job that GitHub would give a token the deploy role does not trust (a job without
the environment the trust names, a fork) is refused here as AWS refuses it.
"""

from __future__ import annotations

import fnmatch
import json
from urllib.parse import unquote

from botocore.exceptions import ClientError

from tests.pipeline.fake_github import OIDC_ISSUER, verified_claims
from tests.pipeline.service_model import Refused, validated

ACTION = "sts:AssumeRoleWithWebIdentity"
PROVIDER = OIDC_ISSUER.removeprefix("https://")


def check_web_identity(params: dict, console) -> None:
    """Refused(...) unless STS would hand out credentials for this request."""
    typed = {**params}
    typed.pop("Action", None)
    typed.pop("Version", None)
    if "DurationSeconds" in typed:
        typed["DurationSeconds"] = int(typed["DurationSeconds"])
    validated("sts", "AssumeRoleWithWebIdentity", typed)
    claims = verified_claims(typed["WebIdentityToken"])
    if claims is None or claims.get("iss") != OIDC_ISSUER:
        raise Refused("InvalidIdentityToken", "The web identity token is not valid", 400)
    iam = console.client("iam")
    account = typed["RoleArn"].split(":")[4]
    provider_arn = f"arn:aws:iam::{account}:oidc-provider/{PROVIDER}"
    try:
        provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=provider_arn)
        role = iam.get_role(RoleName=typed["RoleArn"].rsplit("/", 1)[1])["Role"]
    except ClientError as error:
        raise Refused("AccessDenied", f"Not authorized to perform {ACTION}: {error}", 403) from error
    if claims.get("aud") not in provider.get("ClientIDList", []):
        raise Refused("InvalidIdentityToken", f"Incorrect token audience {claims.get('aud')!r}", 400)
    trust = role["AssumeRolePolicyDocument"]
    if isinstance(trust, str):
        trust = json.loads(unquote(trust))
    if not admits(trust, provider_arn, claims):
        raise Refused("AccessDenied", f"Not authorized to perform {ACTION} (sub {claims.get('sub')!r})", 403)


def admits(trust: dict, provider_arn: str, claims: dict) -> bool:
    """An Allow for this provider and action whose conditions hold, and no Deny that applies."""
    statements = trust.get("Statement", [])
    applying = [s for s in statements if _applies(s, provider_arn) and _conditions_hold(s, claims)]
    return any(s["Effect"] == "Allow" for s in applying) and not any(s["Effect"] == "Deny" for s in applying)


def _applies(statement: dict, provider_arn: str) -> bool:
    actions = statement.get("Action", [])
    actions = [actions] if isinstance(actions, str) else actions
    federated = statement.get("Principal", {}).get("Federated", [])
    federated = [federated] if isinstance(federated, str) else federated
    return provider_arn in federated and any(fnmatch.fnmatchcase(ACTION, action) for action in actions)


def _conditions_hold(statement: dict, claims: dict) -> bool:
    for operator, tests in statement.get("Condition", {}).items():
        for key, expected in tests.items():
            if not key.startswith(f"{PROVIDER}:"):
                return False  # a condition this stand-in cannot evaluate admits nothing
            actual = claims.get(key.split(":", 1)[1])
            values = [expected] if isinstance(expected, str) else expected
            if not _matches(operator, actual, values):
                return False
    return True


def _matches(operator: str, actual: object, values: list[str]) -> bool:
    if not isinstance(actual, str):
        return False
    if operator == "StringEquals":
        return actual in values
    if operator == "StringLike":
        return any(fnmatch.fnmatchcase(actual, value) for value in values)
    return False  # an operator this stand-in does not know admits nothing
