"""Reading botocore's ClientError the same way everywhere."""

from __future__ import annotations

from botocore.exceptions import ClientError

from deployment.errors import error_code

__all__ = ["error_code", "is_not_found", "tag_list"]


def is_not_found(error: ClientError) -> bool:
    code = error_code(error)
    message = error.response.get("Error", {}).get("Message", "")
    # S3, IAM, SageMaker, then Lambda and CloudWatch Logs, then API Gateway and KMS, then SNS.
    not_found = {"404", "NoSuchEntity", "NoSuchBucket", "NoSuchKey", "ResourceNotFound"}
    not_found |= {"ResourceNotFoundException", "NotFoundException", "NotFound"}  # ..., SNS
    return code in not_found or (
        code == "ValidationException" and ("Could not find" in message or "does not exist" in message)
    )


def tag_list(tags: tuple[tuple[str, str], ...]) -> list[dict]:
    return [{"Key": key, "Value": value} for key, value in tags]
