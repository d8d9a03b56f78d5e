"""The media folder: clips transcoded once into stream renditions, and what is in it.

`renditions` (the stream profile: H.264 constrained baseline in MPEG-TS, 1 s GOP, Opus
60 ms) and the writer every clip goes through; `ingest` (a filmmaker's clips, matched to
a story's media ids by `clipnames`); `encoding` (clips a program made: the demo film,
generated fill-ins); `manifest` (what the folder holds, one lock for every writer);
`library` (reading it back); `tsindex`, `progress`, `errors`.

The part of ``mobile_bridge`` that ``genmodels`` may import (DESIGN.md, "Packages"):
it imports nothing of ``mobile_bridge`` outside itself, only av, numpy, pydantic and
``narrative`` (the story's media ids).
"""
