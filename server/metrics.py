"""Prometheus metrics, one registry per app (so several apps in one test process never clash)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_PLAYOUT_BUCKETS = (0.0, 0.02, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0)
_SPREAD_BUCKETS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.5, 1.0)


class _Labelled(Collector):
    """Every sample of ``registry`` with ``node="NAME"`` added: a cluster's nodes are told
    apart in one Prometheus, whatever labels its scrape adds."""

    def __init__(self, registry: CollectorRegistry, node: str) -> None:
        self._registry, self._node = registry, node

    def collect(self) -> Iterator[Metric]:
        for family in self._registry.collect():
            labelled = Metric(family.name, family.documentation, family.type, family.unit)
            labelled.samples = [
                Sample(s.name, {**s.labels, "node": self._node}, s.value, s.timestamp, s.exemplar)
                for s in family.samples
            ]
            yield labelled


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.exposed = self.registry  # what /metrics serves (`label_node` labels it)
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

    def label_node(self, node: str) -> None:
        """Serve every metric with ``node="NAME"``: this process is one node of a cluster."""
        self.exposed = CollectorRegistry()
        self.exposed.register(_Labelled(self.registry, node))


__all__ = ["Metrics"]
