"""Collaborative filtering across the groups of this server: implicit feedback, ALS.

Groups are users, stories are items, and what a group did with a film is implicit
feedback: how much its rooms liked it (`Watched.liking`, summed over its screenings),
never a rating anyone gave. The `implicit` library's alternating least squares (Hu,
Koren & Volinsky 2008: confidence ``1 + α·r``) factors that matrix; a group's score for
a film is the dot product of their factors. Deterministic for a seed (one thread; its
BLAS held to one thread too, as the library asks).

Pure computation, no I/O: the caller gives every group's screenings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from server.recommend.taste import Watched

ALPHA = 20.0  # confidence per unit of liking
REGULARIZATION = 0.05
ITERATIONS = 20
MIN_GROUPS = 2  # below this there is nobody to learn from


def collaborative_scores(
    history: Sequence[Watched], group: str, story_ids: Sequence[int], *, seed: int = 0
) -> Mapping[int, float] | None:
    """The group's ALS score for each of ``story_ids``; None when the server has fewer
    than `MIN_GROUPS` groups with history, or this group has none."""
    groups = sorted({w.group for w in history})
    if group not in groups or len(groups) < MIN_GROUPS:
        return None
    items = sorted({w.story_id for w in history} | set(story_ids))
    row = {g: i for i, g in enumerate(groups)}
    col = {s: j for j, s in enumerate(items)}
    liking = np.zeros((len(groups), len(items)), np.float32)
    for w in history:
        liking[row[w.group], col[w.story_id]] += max(0.05, w.liking)

    # Imported here: the library (and its BLAS) load only when there is something to learn.
    from implicit.cpu.als import AlternatingLeastSquares
    from scipy.sparse import csr_matrix
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, "blas"):  # the library checks this when it is built
        model = AlternatingLeastSquares(
            factors=max(2, min(16, len(items) // 2)),
            regularization=REGULARIZATION,
            alpha=ALPHA,
            iterations=ITERATIONS,
            random_state=seed,
            num_threads=1,
            calculate_training_loss=False,
        )
        model.fit(csr_matrix(liking), show_progress=False)
    user = np.asarray(model.user_factors)[row[group]]
    scores = np.asarray(model.item_factors) @ user
    return {s: float(scores[col[s]]) for s in story_ids}


__all__ = ["ALPHA", "MIN_GROUPS", "collaborative_scores"]
