"""AWS's rules for the names and values config.yml holds, as pure checks (offline: no AWS call).

Each check returns its value or raises ValueError saying what is allowed; the schema in
`deployment.config` attaches the key path. Patterns are ASCII-only on purpose: in Python's `re`,
`\\d` also matches digits like "１", which no AWS name accepts.
"""

from __future__ import annotations

import difflib
import functools
import ipaddress
import re
import unicodedata

from deployment.instance_types import HOSTING_INSTANCE_TYPES, PROCESSING_INSTANCE_TYPES
from inference.errors import ModelError
from inference.settings import CONTAINER_SETTINGS

ARN_PARTITION = r"aws(?:-[a-z]+)*"
REGION_SHAPE = r"[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}"
HOST_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def shown(value: object, limit: int = 60) -> str:
    """`repr` on one line, cut to `limit` characters: a message quotes what it refuses, not a megabyte."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 4]}...{text[-1]}"


@functools.cache
def sagemaker_regions() -> dict[str, str]:
    """Region -> partition, for every region (all partitions) where botocore's endpoint data has SageMaker."""
    from botocore.loaders import create_loader
    from botocore.regions import EndpointResolver

    # "api.sagemaker" is SageMaker's endpoint prefix: what boto3's get_available_regions("sagemaker")
    # looks up, without loading the 3 MB service model first.
    resolver = EndpointResolver(create_loader().load_data("endpoints"))
    return {
        region: partition
        for partition in resolver.get_available_partitions()
        for region in resolver.get_available_endpoints("api.sagemaker", partition)
    }


def region(name: str) -> str:
    if name not in sagemaker_regions():
        closest = difflib.get_close_matches(name, sagemaker_regions(), n=3)
        hint = f"; closest: {', '.join(closest)}" if closest else ", e.g. us-east-1 or eu-west-1"
        raise ValueError(f"{shown(name)} is not a region where SageMaker is available (per botocore){hint}")
    return name


def hosting_instance_type(name: str) -> str:
    return _instance_type(name, HOSTING_INSTANCE_TYPES, "hosting (real-time endpoint)")


def processing_instance_type(name: str) -> str:
    return _instance_type(name, PROCESSING_INSTANCE_TYPES, "processing (monitoring job)")


def _instance_type(name: str, known: frozenset[str], kind: str) -> str:
    if name not in known:
        # "m5.large" is one prefix away from ml.m5.large: compare with the prefix in place.
        closest = difflib.get_close_matches(name if name.startswith("ml.") else f"ml.{name}", known, n=3)
        hint = f"closest: {', '.join(closest)}; " if closest else ""
        raise ValueError(
            f"{shown(name)} is not a SageMaker {kind} instance type; {hint}"
            "the full list, from botocore, is in deployment/instance_types.py"
        )
    return name


RESERVED_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
RESERVED_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_name(name: str) -> str:
    """S3's naming rules for general purpose buckets."""
    if problem := bucket_problem(name):
        raise ValueError(f"{shown(name)} is not an S3 bucket name: {problem}")
    return name


def bucket_problem(name: str) -> str:
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", name):
        return (
            "use 3 to 63 lowercase letters, digits, '.' and '-', "
            "beginning and ending with a letter or digit"
        )
    if ".." in name:
        return "no two adjacent periods"
    if re.fullmatch(r"[0-9]+(?:\.[0-9]+){3}", name):
        return "it must not be formatted as an IP address"
    if name.startswith(RESERVED_BUCKET_PREFIXES):
        return f"S3 reserves the prefixes {', '.join(RESERVED_BUCKET_PREFIXES)}"
    if name.endswith(RESERVED_BUCKET_SUFFIXES):
        return f"S3 reserves the suffixes {', '.join(RESERVED_BUCKET_SUFFIXES)}"
    return ""


# Longer prefixes leave too little of SageMaker's 512-character S3 URIs for the bucket and the
# "{name}-{stage}/.../{endpoint}/{variant}/yyyy/mm/dd/hh/" path SageMaker appends.
S3_PREFIX_MAX = 200


def s3_prefix(prefix: str) -> str:
    if not prefix or prefix.startswith("/") or prefix.endswith("/") or "//" in prefix:
        raise ValueError(f"{shown(prefix)} must be non-empty, with no leading, trailing or double '/'")
    # S3's "safe characters" for object keys; anything else needs URL-encoding somewhere downstream.
    if len(prefix) > S3_PREFIX_MAX or not re.fullmatch(r"[A-Za-z0-9!_.*'()/-]+", prefix):
        raise ValueError(
            f"{shown(prefix)} is not a safe S3 prefix: use at most {S3_PREFIX_MAX} letters, digits "
            "and ! _ . * ' ( ) -, with '/' between parts"
        )
    if {".", ".."} & set(prefix.split("/")):
        raise ValueError(f"{shown(prefix)} has a '.' or '..' part; S3 keys are not paths to resolve")
    return prefix


TAG_LIMIT = 50  # tags per resource, in every AWS service this deploys to
TAG_PUNCTUATION = frozenset("_.:/=+-@")


def tags(user_tags: dict[str, str], engine_tags: tuple[str, ...]) -> dict[str, str]:
    """AWS's tag rules, leaving room for (and not overriding) the engine's own tags."""
    room = TAG_LIMIT - len(engine_tags)
    if len(user_tags) > room:
        raise ValueError(
            f"{len(user_tags)} tags; AWS allows {TAG_LIMIT} per resource and the engine adds "
            f"{len(engine_tags)} ({', '.join(engine_tags)}), so at most {room}"
        )
    engine_prefixes = tuple(sorted({tag.split(":")[0] + ":" for tag in engine_tags}))
    for key, value in user_tags.items():
        if key.lower().startswith("aws:"):
            raise ValueError(f"the key {shown(key)}: the aws: prefix is reserved for AWS")
        if key.lower().startswith(engine_prefixes):
            raise ValueError(
                f"the key {shown(key)}: the {', '.join(engine_prefixes)} prefix is the engine's own "
                f"({', '.join(engine_tags)}); choose another key"
            )
        if problem := _tag_text_problem(key, 1, 128):
            raise ValueError(f"the key {shown(key)} {problem}")
        if problem := _tag_text_problem(value, 0, 256):
            raise ValueError(f"the value of {shown(key)} {problem}")
    return user_tags


def _tag_text_problem(text: str, shortest: int, longest: int) -> str:
    if not shortest <= len(text) <= longest:
        return f"has {len(text)} characters; AWS allows {shortest} to {longest}"
    # AWS's pattern is [\p{L}\p{Z}\p{N}_.:/=+\-@]*: Unicode letters, separators (spaces), numbers.
    if any(char not in TAG_PUNCTUATION and unicodedata.category(char)[0] not in "LZN" for char in text):
        return f"{shown(text)} may hold only letters, digits, spaces and _ . : / = + - @"
    return ""


# Botocore's EnvironmentMap (CreateModel's Environment) and the limits its documentation states.
ENVIRONMENT_ENTRIES = 100
ENVIRONMENT_ENTRY_BYTES = 1024
ENVIRONMENT_TOTAL_BYTES = 32 * 1024


def environment(variables: dict[str, str]) -> dict[str, str]:
    if len(variables) > ENVIRONMENT_ENTRIES:
        raise ValueError(f"{len(variables)} variables; SageMaker allows {ENVIRONMENT_ENTRIES}")
    for name, value in variables.items():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ValueError(
                f"{shown(name)} is not an environment variable name: "
                "letters, digits and '_', not starting with a digit"
            )
        if max(len(name.encode()), len(value.encode())) > ENVIRONMENT_ENTRY_BYTES:
            raise ValueError(f"{name}: SageMaker allows {ENVIRONMENT_ENTRY_BYTES} bytes per name and value")
        if "\0" in value:
            raise ValueError(f"{name}: a value cannot hold a NUL character")
        if name in CONTAINER_SETTINGS:  # the container's own rule for it, which would stop it at start
            try:
                CONTAINER_SETTINGS[name](value)
            except ModelError as error:
                raise ValueError(f"{name}: {error.what}") from None
    total = sum(len(name.encode()) + len(value.encode()) for name, value in variables.items())
    if total > ENVIRONMENT_TOTAL_BYTES:
        raise ValueError(f"{total} bytes of names and values; SageMaker allows {ENVIRONMENT_TOTAL_BYTES}")
    return variables


KMS_KEY_ID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32}"
KMS_ALIAS = r"alias/[A-Za-z0-9/_-]{1,250}"
KMS_ARN = re.compile(
    rf"arn:(?P<partition>{ARN_PARTITION}):kms:(?P<region>{REGION_SHAPE}):[0-9]{{12}}:"
    rf"(?:key/(?:{KMS_KEY_ID})|{KMS_ALIAS})"
)


def kms_key(key: str) -> str:
    if not (re.fullmatch(KMS_KEY_ID, key) or re.fullmatch(KMS_ALIAS, key) or KMS_ARN.fullmatch(key)):
        raise ValueError(
            f"{shown(key)} is not a KMS key: give a key id (a UUID, or mrk-<32 hex> for a multi-Region "
            "key), a key ARN, an alias (alias/my-key) or an alias ARN"
        )
    return key


ROLE_ARN = re.compile(
    rf"arn:(?P<partition>{ARN_PARTITION}):iam::[0-9]{{12}}:role/(?P<path>(?:[A-Za-z0-9+=,.@_-]+/)*)"
    r"[A-Za-z0-9+=,.@_-]{1,64}"
)


def role_arn(arn: str) -> str:
    match = ROLE_ARN.fullmatch(arn)
    if not match or len(match["path"]) > 511:
        raise ValueError(
            f"{shown(arn)} is not an IAM role ARN: arn:aws:iam::<12-digit account>:role/[path/]name, "
            "with names and path parts of letters, digits and + = , . @ _ -"
        )
    return arn


SNS_TOPIC_ARN = re.compile(
    rf"arn:(?P<partition>{ARN_PARTITION}):sns:(?P<region>{REGION_SHAPE}):[0-9]{{12}}:[A-Za-z0-9_-]{{1,256}}(\.fifo)?"
)
# An address SES and SNS deliver to: one @, a dotted domain, no spaces or angle brackets.
EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)


def sns_topic_arn(arn: str) -> str:
    if not SNS_TOPIC_ARN.fullmatch(arn):
        raise ValueError(
            f"{shown(arn)} is not an SNS topic ARN: arn:aws:sns:<region>:<12-digit account>:<name>"
        )
    if arn.endswith(".fifo"):
        raise ValueError(f"{shown(arn)} is a FIFO topic; CloudWatch alarms notify standard topics only")
    return arn


def email(address: str) -> str:
    if len(address) > 254 or not EMAIL.fullmatch(address):
        raise ValueError(f"{shown(address)} is not an email address (name@example.com)")
    return address


def model_path(path: str) -> str:
    if len(path) > 4096 or not path.endswith(".tflite") or "\0" in path:
        raise ValueError(f"{shown(path)} is not a path to a .tflite file")
    return path


def model_url(url: str) -> str:
    if len(url) > 2048 or not re.fullmatch(r"https?://[^\s/?#]+\S*", url):
        raise ValueError(f"{shown(url)} is not an http(s) URL")
    return url


def arn_partition(arn: str) -> str:
    return arn.split(":")[1]


def arn_region(arn: str) -> str:
    return arn.split(":")[3]


def arn_location(arn: str) -> tuple[str, str]:
    return arn_partition(arn), arn_region(arn)


def host_problem(host: str) -> str:
    """Empty for a DNS host name or an IPv4 address; otherwise what is wrong."""
    if re.fullmatch(r"[0-9.]+", host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return f"{shown(host)} is not an IPv4 address"
        return ""
    labels = host.split(".")
    if len(host) > 253 or not all(HOST_LABEL.fullmatch(label) for label in labels):
        return (
            f"{shown(host)} is not a DNS host name or an IP address "
            "(labels of letters, digits and '-', joined by '.')"
        )
    return ""


def local_host(host: str) -> str:
    if problem := host_problem(host):
        raise ValueError(f"{problem}; the local servers listen on an IPv4 address or a host name")
    return host


ORIGIN = re.compile(r"(?P<scheme>https?)://(?P<host>\[[0-9A-Fa-f:.]+\]|[^/:\[\]]+)(?::(?P<port>[0-9]+))?")
DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(text: str) -> str:
    """A browser origin as it appears in the Origin header: scheme://host[:port]."""
    match = ORIGIN.fullmatch(text)
    if not match:
        raise ValueError(
            f"{shown(text)} is not an origin; write scheme and host with an optional port, "
            "e.g. https://example.com or http://localhost:8080 (no path, no trailing '/', no '*')"
        )
    host, port = match["host"], match["port"]
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise ValueError(f"{shown(text)}: {host} is not an IPv6 address") from None
    elif problem := host_problem(host):
        raise ValueError(f"{shown(text)}: {problem}")
    if port is not None:
        if port.startswith("0") or len(port) > 5 or int(port) > 65535:
            raise ValueError(f"{shown(text)}: the port must be 1 to 65535, without leading zeros")
        if int(port) == DEFAULT_PORTS[match["scheme"]]:
            raise ValueError(
                f"{shown(text)}: browsers send this origin without its default port; "
                f"write {match['scheme']}://{host}"
            )
    return text
