"""The FER export step: a real ONNX file that agrees with torch, in place only when verified."""

from __future__ import annotations

import hashlib

import numpy as np
import onnxruntime as ort
import pytest
import torch

from affect.errors import ExportError, ModelError
from affect.export_fer import (
    OPSET,
    check_inputs,
    default_path,
    export,
    load_torch_model,
    main,
    package_dir,
)


def test_export_matches_torch_within_1e_4(fer_export):
    assert fer_export.max_abs_diff <= 1e-4
    assert fer_export.opset == OPSET >= 13
    assert fer_export.sha256 == hashlib.sha256(fer_export.path.read_bytes()).hexdigest()
    # An independent check on inputs the export step did not use, at another batch size.
    crops = np.random.default_rng(42).random((5, 1, 48, 48)).astype(np.float32)
    session = ort.InferenceSession(str(fer_export.path), providers=["CPUExecutionProvider"])
    onnx_logits = session.run(None, {"face": crops})[0]
    with torch.no_grad():
        torch_logits = load_torch_model(package_dir())(torch.from_numpy(crops)).numpy()
    assert onnx_logits.shape == (5, 7)
    np.testing.assert_allclose(onnx_logits, torch_logits, atol=1e-4, rtol=0)


def test_a_disagreeing_export_is_refused_and_leaves_no_file(tmp_path):
    out = tmp_path / "fer.onnx"
    with pytest.raises(ExportError) as info:
        export(out, tolerance=-1.0)  # nothing can agree this well
    assert info.value.code == "export-failed"
    assert list(tmp_path.iterdir()) == []


def test_a_missing_source_package_says_how_to_install_it(monkeypatch):
    from affect import export_fer

    monkeypatch.setattr(export_fer, "PACKAGE", "no_such_package_kinoroom")
    with pytest.raises(ModelError, match="--no-deps what-the-face-classification"):
        package_dir()


def test_check_inputs_cover_black_white_and_texture():
    crops = check_inputs(4)
    assert crops.shape == (7, 1, 48, 48) and crops.dtype == np.float32
    assert crops[0].max() == 0.0 and crops[1].min() == 1.0
    assert crops.min() >= 0.0 and crops.max() <= 1.0


def test_default_path_is_under_the_data_folder(tmp_path):
    assert default_path(tmp_path) == tmp_path / "models" / "fer.onnx"


def test_the_command_line_reports_an_error_code(capsys, tmp_path, monkeypatch):
    from affect import export_fer

    monkeypatch.setattr(export_fer, "PACKAGE", "no_such_package_kinoroom")
    assert main([str(tmp_path / "fer.onnx")]) == 1
    assert "error [model-unavailable]" in capsys.readouterr().err
