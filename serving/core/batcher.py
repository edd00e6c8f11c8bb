"""Micro-batching: sentences of concurrent requests share forward passes.

Requests put their sentences on a bounded queue and await futures; one worker takes up to
``max_batch_size`` sentences (waiting at most ``max_wait_ms`` for more to arrive), runs the
predictor in a thread off the event loop, and resolves the futures. The predictor sorts each
batch by length, so padding stays small. Past ``max_queue`` waiting sentences, ``submit`` raises
:class:`QueueFull` (the API answers 429) instead of letting memory grow.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from policytag.serving.core.metrics import Metrics
from policytag.training.predictor import Prediction, Predictor

__all__ = ["MicroBatcher", "QueueFull"]

log = logging.getLogger(__name__)


class QueueFull(Exception):
    """More sentences are waiting than the server accepts."""


@dataclass
class _Item:
    text: str
    future: asyncio.Future[Prediction]


class MicroBatcher:
    def __init__(
        self, predictor: Predictor, *, max_batch_size: int, max_wait_ms: float, max_queue: int, metrics: Metrics
    ) -> None:
        if max_batch_size < 1 or max_queue < 1 or max_wait_ms < 0:
            raise ValueError("max_batch_size and max_queue must be >= 1 and max_wait_ms >= 0")
        self.predictor = predictor
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait_ms / 1000.0
        self.max_queue = max_queue
        self.metrics = metrics
        self._queue: deque[_Item] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        # One thread: torch parallelises inside the forward pass; two passes at once would fight for cores.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="policytag-infer")

    @property
    def depth(self) -> int:
        return len(self._queue)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="policytag-batcher")

    async def submit(self, texts: Sequence[str]) -> list[Prediction]:
        """Classify ``texts`` together with whatever else is waiting."""
        if self._closing:
            raise QueueFull("the server is shutting down")
        if len(self._queue) + len(texts) > self.max_queue:
            self.metrics.rejected.inc()
            raise QueueFull(f"{len(self._queue)} sentences are waiting (limit {self.max_queue})")
        loop = asyncio.get_running_loop()
        items = [_Item(t, loop.create_future()) for t in texts]
        self._queue.extend(items)
        self.metrics.queue_depth.set(len(self._queue))
        self._wake.set()
        return list(await asyncio.gather(*(i.future for i in items)))

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                # Let a partial batch wait briefly for sentences of other requests.
                deadline = time.monotonic() + self.max_wait
                while len(self._queue) < self.max_batch_size and time.monotonic() < deadline:
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), timeout=max(0.0, deadline - time.monotonic()))
                n = min(self.max_batch_size, len(self._queue))
                batch = [self._queue.popleft() for _ in range(n)]
                self.metrics.queue_depth.set(len(self._queue))
                started = time.perf_counter()
                try:
                    preds = await loop.run_in_executor(self._executor, self.predictor.predict, [i.text for i in batch])
                except Exception as e:  # a failed batch fails its requests, not the worker
                    log.exception("inference failed for a batch of %d", n)
                    for i in batch:
                        if not i.future.done():
                            i.future.set_exception(e)
                    continue
                self.metrics.inference_seconds.observe(time.perf_counter() - started)
                self.metrics.batch_size.observe(n)
                self.metrics.sentences.inc(n)
                for item, pred in zip(batch, preds, strict=True):
                    if not item.future.done():
                        item.future.set_result(pred)

    async def close(self) -> None:
        """Refuse new work, finish what is queued, stop the worker."""
        self._closing = True
        while self._queue:
            await asyncio.sleep(0.01)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._executor.shutdown(wait=True)
