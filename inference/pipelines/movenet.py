"""MoveNet SinglePose (Lightning, Thunder; int8, float16 or float32 weights)."""

from __future__ import annotations

from pathlib import Path

from inference.codec import DEFAULT_MAX_PEOPLE
from inference.errors import ModelError
from inference.images import DecodedImage, letterbox
from inference.keypoints import COCO_KEYPOINTS
from inference.pipelines.pose import (
    Box,
    Person,
    Pose,
    keypoints_from,
    load_interpreter,
    to_input_tensor,
)

# A keypoint counts as found above this score (MoveNet's own demos draw from 0.11 to 0.3).
KEYPOINT_THRESHOLD = 0.3
# A person is reported when at least this many keypoints are found.
MIN_KEYPOINTS_FOR_PERSON = 4
# Decode a JPEG to at least twice the model input, so the letterbox's antialiased resize makes
# the last reduction; a reduced-DCT draft at the model's own size gives it a softer photo.
DECODE_OVERSAMPLING = 2


class MoveNetPipeline:
    """Letterbox to the model input, run, map the [1,1,17,3] (y, x, score) output back."""

    def __init__(self, model_path: Path, threads: int = 1) -> None:
        self._interpreter = load_interpreter(model_path, threads)
        self._input = self._interpreter.get_input_details()[0]
        _, self._height, self._width, _ = (int(v) for v in self._input["shape"])
        outputs = [d for d in self._interpreter.get_output_details() if tuple(d["shape"]) == (1, 1, 17, 3)]
        if not outputs:
            raise ModelError(
                "no [1,1,17,3] output; is this a MoveNet SinglePose model?", where=str(model_path)
            )
        self._output_index = outputs[0]["index"]
        self.decode_side = DECODE_OVERSAMPLING * max(self._width, self._height)

    @property
    def interpreters(self) -> tuple:
        """The TFLite interpreters one call runs (benchmarks time their bare invokes)."""
        return (self._interpreter,)

    def __call__(self, image: DecodedImage, max_people: int = DEFAULT_MAX_PEOPLE) -> Pose:
        """SinglePose: at most one person, whatever `max_people` allows."""
        canvas, box = letterbox(image, self._width, self._height)
        # MoveNet takes raw 0..255 pixels whatever its weights' precision.
        self._interpreter.set_tensor(self._input["index"], to_input_tensor(canvas, self._input, (0.0, 255.0)))
        self._interpreter.invoke()
        yxs = self._interpreter.get_tensor(self._output_index)[0, 0]
        x, y = box.to_original(yxs[:, 1] * self._width, yxs[:, 0] * self._height)
        scores = yxs[:, 2]
        keypoints = keypoints_from(COCO_KEYPOINTS, x, y, scores, (image.width, image.height))
        found = [
            keypoint for keypoint, score in zip(keypoints, scores, strict=True) if score >= KEYPOINT_THRESHOLD
        ]
        score = round(float(scores.mean()), 4)
        detected = len(found) >= MIN_KEYPOINTS_FOR_PERSON
        # The top level keeps its keypoints even without a person (as it always has); `people` does not.
        people = (Person(keypoints, (), score, Box.around(tuple(found))),) if detected else ()
        return Pose(keypoints=keypoints, landmarks=(), score=score, person_detected=detected, people=people)
