"""The 7-class facial expression classifier, run with onnxruntime.

The model is the FER2013 CNN of the ``what-the-face-classification`` package, exported
to ONNX by `affect.export_fer` (torch is needed only for that export, never here). Its
input is ``N×1×48×48`` float32 grey in [0, 1] (see `affect.face_crop`), its output the
7 logits in `affect.appraisal.CLASSES` order; `ExpressionClassifier` returns softmax
probabilities. The exported file is GPL-3.0 (see `affect.export_fer`).

One intra-op thread by default: the server analyses many viewers in a process pool, and
a 1 ms model gains nothing from threads but contention.

Runs a model: not pure. Nothing here keeps a crop.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from affect.appraisal import CLASSES
from affect.errors import ModelError, TraceError
from affect.face_crop import SIZE


class ExpressionClassifier:
    """Softmax probabilities of the 7 FER classes for 48×48 grey face crops."""

    def __init__(self, model: Path, *, threads: int = 1) -> None:
        if not model.is_file():
            raise ModelError(
                "no FER model: export one with `python -m affect.export_fer`", where=str(model)
            )
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        try:
            self._session = ort.InferenceSession(
                str(model), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own unexported exception types
            raise ModelError(f"cannot load the FER model: {exc}", where=str(model)) from exc
        inputs = self._session.get_inputs()
        outputs = self._session.get_outputs()
        if len(inputs) != 1 or outputs[0].shape[-1] != len(CLASSES):
            raise ModelError("not a 7-class FER model", where=str(model))
        self._input = str(inputs[0].name)

    def classify(self, crops: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Probabilities (N×7, rows sum to 1) for crops of shape N×48×48 (or one 48×48).

        Raises:
            TraceError: the crops are not 48×48.
        """
        batch = np.asarray(crops, dtype=np.float32)
        if batch.shape[-2:] != (SIZE, SIZE) or batch.ndim not in (2, 3):
            raise TraceError(f"crops of shape {batch.shape} are not {SIZE}×{SIZE}")
        batch = batch.reshape(-1, 1, SIZE, SIZE)
        logits = np.asarray(self._session.run(None, {self._input: batch})[0], dtype=np.float64)
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities: npt.NDArray[np.float32] = (
            shifted / shifted.sum(axis=1, keepdims=True)
        ).astype(np.float32)
        return probabilities


__all__ = ["ExpressionClassifier"]
