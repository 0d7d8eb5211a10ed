"""BlazePose GHUM landmarks, run on the whole letterboxed photo.

The landmark model is meant to see a person-centred crop; the two-stage detector pipeline
that provides one is tracked separately. Here the whole photo is letterboxed to 256x256.
"""

from __future__ import annotations

from pathlib import Path

from inference.errors import ModelError
from inference.images import DecodedImage, letterbox
from inference.keypoints import BLAZEPOSE_LANDMARKS, BLAZEPOSE_TO_COCO
from inference.pipelines.pose import Pose, keypoints_from, load_interpreter, sigmoid, to_input_tensor

# MediaPipe's default min_pose_presence_confidence.
PRESENCE_THRESHOLD = 0.5
VALUES_PER_LANDMARK = 5  # x, y, z, visibility logit, presence logit


class BlazePosePipeline:
    def __init__(self, model_path: Path, threads: int = 1) -> None:
        self._interpreter = load_interpreter(model_path, threads)
        self._input = self._interpreter.get_input_details()[0]
        _, self._height, self._width, _ = (int(v) for v in self._input["shape"])
        by_shape = {tuple(d["shape"]): d["index"] for d in self._interpreter.get_output_details()}
        landmark_outputs = [
            shape for shape in by_shape if len(shape) == 2 and shape[1] == 39 * VALUES_PER_LANDMARK
        ]
        if not landmark_outputs or (1, 1) not in by_shape:
            raise ModelError(
                "no [1,195] landmark and [1,1] presence outputs; is this a BlazePose landmark model?",
                where=str(model_path),
            )
        self._landmarks_index = by_shape[landmark_outputs[0]]
        self._presence_index = by_shape[(1, 1)]
        self.decode_side = max(self._width, self._height)

    def __call__(self, image: DecodedImage) -> Pose:
        canvas, box = letterbox(image, self._width, self._height)
        self._interpreter.set_tensor(self._input["index"], to_input_tensor(canvas, self._input, (0.0, 1.0)))
        self._interpreter.invoke()
        raw = self._interpreter.get_tensor(self._landmarks_index).reshape(-1, VALUES_PER_LANDMARK)
        raw = raw[: len(BLAZEPOSE_LANDMARKS)]
        presence = float(self._interpreter.get_tensor(self._presence_index).ravel()[0])
        x, y = box.to_original(raw[:, 0], raw[:, 1])
        visibility = sigmoid(raw[:, 3])
        landmarks = keypoints_from(BLAZEPOSE_LANDMARKS, x, y, visibility, (image.width, image.height))
        return Pose(
            keypoints=tuple(landmarks[i] for i in BLAZEPOSE_TO_COCO),
            landmarks=landmarks,
            score=round(presence, 4),
            person_detected=presence >= PRESENCE_THRESHOLD,
        )
