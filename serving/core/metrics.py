"""Prometheus metrics of one app instance (a registry per app, so tests can run several)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

__all__ = ["LABELSTUDIO_ACTIONS", "Metrics"]

#: Webhook actions Label Studio 1.23 sends (``webhooks/models.py``) plus ``START_TRAINING``; any other
#: action is counted as ``other`` so that a client cannot grow the metric's label set.
LABELSTUDIO_ACTIONS = frozenset(
    {
        "PROJECT_CREATED",
        "PROJECT_UPDATED",
        "PROJECT_DELETED",
        "TASKS_CREATED",
        "TASKS_DELETED",
        "ANNOTATION_CREATED",
        "ANNOTATIONS_CREATED",
        "ANNOTATION_UPDATED",
        "ANNOTATIONS_DELETED",
        "LABEL_LINK_CREATED",
        "LABEL_LINK_UPDATED",
        "LABEL_LINK_DELETED",
        "START_TRAINING",
    }
)


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    #: the latest Label Studio webhook events (a summary of each, oldest dropped first)
    labelstudio_events: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=200))

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
        self.inference_seconds = Histogram(
            "policytag_inference_seconds",
            "seconds per forward batch: the model's share of request latency (the rest is queueing and HTTP)",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        self.sentences = Counter("policytag_sentences_total", "sentences classified", registry=r)
        self.queue_depth = Gauge("policytag_queue_depth", "sentences waiting for a batch", registry=r)
        self.rejected = Counter("policytag_rejected_total", "requests refused because the queue was full", registry=r)
        self.numerics = Info(
            "policytag_numerics", "the inference numerics the model runs in: requested and used", registry=r
        )
        self.numerics_probe = Gauge(
            "policytag_numerics_probe_speedup",
            "auto's load-time probe: each candidate path's speed against fp32 (absent when nothing was probed)",
            ["numerics"],
            registry=r,
        )
        self.labelstudio_webhooks = Counter(
            "policytag_labelstudio_webhooks_total",
            "Label Studio webhook events received, by action",
            ["action"],
            registry=r,
        )

    def record_numerics(self, info: dict[str, Any]) -> None:
        """Publish what the loaded model runs in (``Predictor.numerics_info``): requested, used, int8 engine,
        the paths the guard admitted, and the probe's speed of each path it timed."""
        values = {k: str(info.get(k) or "") for k in ("requested", "used", "int8_engine")}
        values["qualified"] = ",".join(info.get("qualified") or [])
        self.numerics.info(values)
        for name, speedup in (info.get("probe_speedup") or {}).items():
            self.numerics_probe.labels(numerics=name).set(float(speedup))

    def record_labelstudio_event(self, action: str, summary: dict[str, Any]) -> None:
        """Count a webhook event and keep its summary among the latest ones (no work is started)."""
        self.labelstudio_webhooks.labels(action=action if action in LABELSTUDIO_ACTIONS else "other").inc()
        self.labelstudio_events.append(summary)
