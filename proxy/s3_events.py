"""Reading an S3 event notification: what the drop folder's and the upload folder's Lambdas share.

S3 sends `{"Records": [...]}`, each record naming a bucket and a URL-encoded key (a space arrives as
`+`). A record that names no object, or names it with something other than text, is skipped by the
caller, never raised on: a retry of the same event would fail the same way.
https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
"""

from __future__ import annotations

from urllib.parse import unquote_plus


def records(event: object) -> list | None:
    """The event's records, or None when it is no S3 event."""
    found = event.get("Records") if isinstance(event, dict) else None
    return found if isinstance(found, list) else None


def location(record: object) -> tuple[str, str] | None:
    """The bucket and the (URL-decoded) key a record names, or None."""
    try:
        bucket = record["s3"]["bucket"]["name"]
        key = record["s3"]["object"]["key"]
    except (KeyError, TypeError):
        return None
    if not (isinstance(bucket, str) and bucket and isinstance(key, str) and key):
        return None
    return bucket, unquote_plus(key)
