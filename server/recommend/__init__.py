"""What to watch next: the film's language measured from its clips, a group's taste learnt
from its rooms' reactions, and a hybrid recommender with one pick outside the habit.

Pure: `film`, `taste`, `collab`, `picks`, `reasons` (values in, values out; the seed is an
argument). I/O: `measure` and `measures` (clips and ``MEDIA_DIR/measures.json``),
`library` (runs a story's director's cut), `service` (the database and the media folder).
Reads only room-level facts (mood per scene, turnout, completion), never a viewer's own.
"""

from server.recommend.film import FEATURES, FilmProfile, Scaler, SceneLook
from server.recommend.picks import Pick, WatchNext, watch_next
from server.recommend.taste import SceneMood, Taste, Watched, learn_taste

__all__ = [
    "FEATURES",
    "FilmProfile",
    "Pick",
    "Scaler",
    "SceneLook",
    "SceneMood",
    "Taste",
    "WatchNext",
    "Watched",
    "learn_taste",
    "watch_next",
]
