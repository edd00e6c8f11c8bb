"""What an engine of the collection job is given and what it gives back.

The driver (:mod:`policytag.collection.job`) decides which files still need tagging (resume), then hands
them to one engine: the local one (:mod:`policytag.collection.local_engine`, worker processes for reading
and splitting, the model in the main process) or Ray Data (:mod:`policytag.collection.ray_engine`). An
engine writes result shards into the results folder (:mod:`policytag.collection.store`'s layout) and
returns what failed; the driver writes ``errors.jsonl``, the manifest and the final tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["EngineOptions", "EngineResult", "FileFailure", "InputFile"]


@dataclass(frozen=True, slots=True)
class InputFile:
    """A file to tag: where it is, and the path recorded in the tables (as the user named it)."""

    path: Path
    source_path: str


@dataclass(frozen=True, slots=True)
class FileFailure:
    """A file that could not be tagged, and why (``DocumentError``'s message, or the exception's)."""

    source_path: str
    reason: str
    sha256: str | None = None


@dataclass(frozen=True, kw_only=True)
class EngineOptions:
    """How an engine runs; every field is checked when the options are made."""

    model: Path
    results: Path
    run_id: str
    batch_sentences: int = 2048
    shard_documents: int = 64
    workers: int = 1
    normalize: bool = True
    progress: bool = True
    ray_address: str | None = None

    def __post_init__(self) -> None:
        for name in ("batch_sentences", "shard_documents", "workers"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not self.run_id or "/" in self.run_id:
            raise ValueError(f"run_id must be a non-empty name without '/', got {self.run_id!r}")


@dataclass
class EngineResult:
    """What an engine did: documents and sentences written, and the files that failed."""

    documents: int = 0
    sentences: int = 0
    failures: list[FileFailure] = field(default_factory=list)
