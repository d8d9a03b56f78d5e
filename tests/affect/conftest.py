"""Shared models for the affect tests: one landmarker, one FER export per test session."""

from __future__ import annotations

import pytest

from affect.export_fer import export
from affect.expressions import ExpressionClassifier
from affect.landmarks import Landmarker


@pytest.fixture(scope="session")
def fer_export(tmp_path_factory):
    """The real export step, run once: the classifier tests use its output."""
    return export(tmp_path_factory.mktemp("models") / "fer.onnx")


@pytest.fixture(scope="session")
def classifier(fer_export):
    return ExpressionClassifier(fer_export.path)


@pytest.fixture(scope="session")
def landmarker():
    with Landmarker() as landmarker:
        yield landmarker
