"""Prometheus metrics, one registry per app (so several apps in one test process never clash)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_PLAYOUT_BUCKETS = (0.0, 0.02, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0)
_SPREAD_BUCKETS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.5, 1.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.rooms = Gauge("kinoroom_rooms", "Rooms running on this process", registry=r)
        self.sockets = Gauge("kinoroom_sockets", "Open page sockets by role", ["role"], registry=r)
        self.votes = Counter(
            "kinoroom_votes", "Votes by outcome (accepted or a rejection code)", ["outcome"],
            registry=r,
        )  # fmt: skip
        self.decisions = Counter(
            "kinoroom_decisions", "Decisions by policy", ["policy"], registry=r
        )
        self.send_drops = Counter(
            "kinoroom_slow_consumers",
            "Sockets closed because their send queue overflowed",
            registry=r,
        )
        self.protocol_errors = Counter(
            "kinoroom_protocol_errors", "Error messages sent to pages, by code", ["code"],
            registry=r,
        )  # fmt: skip
        self.commit_seconds = Histogram(
            "kinoroom_commit_seconds", "Group commit duration", buckets=_LATENCY_BUCKETS, registry=r
        )
        self.commit_events = Histogram(
            "kinoroom_commit_events",
            "Events per group commit",
            buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000),
            registry=r,
        )
        self.vote_ack_seconds = Histogram(
            "kinoroom_vote_ack_seconds",
            "From a vote's arrival to its ack (after commit)",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.peers = Gauge("kinoroom_peers", "WebRTC peers of pages", registry=r)
        self.camera_frames = Counter(
            "kinoroom_camera_frames", "Camera frames received for server-side analysis", registry=r
        )
        self.playout_offset = Histogram(
            "kinoroom_playout_offset_seconds",
            "Pages' reported playout offset (shown minus due on the room clock), by role",
            ["role"], buckets=_PLAYOUT_BUCKETS, registry=r,
        )  # fmt: skip
        self.playout_spread = Histogram(
            "kinoroom_playout_spread_seconds",
            "Spread of the latest playout offsets between a room's pages of a role, per report",
            ["role"], buckets=_SPREAD_BUCKETS, registry=r,
        )  # fmt: skip


__all__ = ["Metrics"]
