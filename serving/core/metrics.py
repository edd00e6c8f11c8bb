"""Prometheus metrics of one app instance (a registry per app, so tests can run several)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["Metrics"]


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.requests = Counter(
            "policytag_requests_total", "HTTP requests by route and status", ["route", "method", "status"], registry=r
        )
        self.latency = Histogram(
            "policytag_request_seconds",
            "request latency by route",
            ["route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        self.batch_size = Histogram(
            "policytag_batch_size", "sentences per forward pass", buckets=(1, 2, 4, 8, 16, 32, 64, 128), registry=r
        )
        self.sentences = Counter("policytag_sentences_total", "sentences classified", registry=r)
        self.queue_depth = Gauge("policytag_queue_depth", "sentences waiting for a batch", registry=r)
        self.rejected = Counter("policytag_rejected_total", "requests refused because the queue was full", registry=r)
