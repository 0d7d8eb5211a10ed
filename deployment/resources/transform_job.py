"""A Batch Transform job: run on demand by `python -m deployment batch`, never planned or kept
(SageMaker keeps its record; its results are objects in the stage's folder)."""

from __future__ import annotations

from dataclasses import dataclass

MAX_PAYLOAD_MB = 6  # the endpoint's own limit, so a photo the endpoint takes, the job takes
# Each photo is its own request: the server sniffs JPEG or PNG from the bytes.
CONTENT_TYPE = "application/x-image"
# The container's switch (inference/server.py): a photo it cannot read is answered 200 with
# {"error", "status"}, that photo's result, since Batch Transform fails the whole job on one 4xx.
ERRORS_AS_RESULTS = "POSE_ERRORS_AS_RESULTS"


@dataclass(frozen=True)
class BatchJob:
    name: str
    model_name: str
    input_uri: str
    output_uri: str
    instance_type: str
    instance_count: int
    max_concurrent: int  # requests in flight per instance: one per core, as the server has workers
