"""Server settings, read from ``POLICYTAG_*`` environment variables (or passed to ``create_app``).

Example:
    >>> Settings(model_path="models/demo", max_sentences=64).max_sentences
    64
"""

from __future__ import annotations

import os
from typing import Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from policytag.core.deprecation import warn_renamed
from policytag.training.numerics.names import NumericsRequest

__all__ = ["Settings"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POLICYTAG_", extra="forbid")

    model_path: str = Field("models/demo", description="model folder to serve (never taken from a request)")
    host: str = Field("127.0.0.1", description="address to bind; loopback unless told otherwise")
    port: int = Field(8000, ge=0, le=65535, description="port to bind (0: any free port)")
    api_key: SecretStr | None = Field(None, description="when set, every /v1 route needs `Authorization: Bearer KEY`")
    cors_origins: list[str] = Field(default_factory=list, description="origins allowed by CORS; empty: CORS off")
    max_body_bytes: int = Field(2_000_000, gt=0, description="largest request body, counted on the streamed bytes")
    drain_bytes: int = Field(
        64_000_000,
        ge=0,
        description="of a body over max_body_bytes, how much more is read and thrown away before the 413 goes "
        "out, so that a client still sending can read it (past this, or drain_seconds, the connection is closed)",
    )
    drain_seconds: float = Field(
        10.0, ge=0, description="how long the rest of an oversized body is read (see drain_bytes)"
    )
    max_sentences: int = Field(512, gt=0, description="most sentences in one request (documents: after splitting)")
    max_batch_size: int = Field(
        128,
        gt=0,
        description="most sentences handed to the model at once (across requests); they are sorted by length "
        "and cut into forward passes of at most token_budget padded tokens",
    )
    token_budget: int | None = Field(
        None, gt=0, description="most padded tokens (rows x longest row) in one forward pass (default: per numerics)"
    )
    max_wait_ms: float = Field(
        25.0,
        ge=0,
        description="how long a batch waits for more sentences before it runs (measured: 5 ms left the "
        "model idle between batches under 8 concurrent clients)",
    )
    max_queue: int = Field(4096, gt=0, description="most sentences waiting; past it requests get 429")
    retry_after_s: int = Field(1, ge=1, description="Retry-After of a 429 answer")
    device: str | None = Field(None, description="torch device (default: CUDA if available, else CPU)")
    numerics: NumericsRequest = Field(
        "auto",
        description="inference numerics; auto: the fastest path whose accuracy guard (precision_guard.json in "
        "the model folder) holds, fp32 without one. POLICYTAG_PRECISION, the old name, is still read (with a "
        "deprecation warning) until the next release",
    )
    warmup: bool = Field(
        True,
        description="run the model before declaring readiness: a BERT runs every batch shape it can make "
        "(with shape_buckets), so that no request pays for building a shape's kernels",
    )
    shape_buckets: bool = Field(
        True,
        description="pad a BERT's batches to a few shapes (length buckets, rows a power of two), all warmed up "
        "at start; off: each batch as long as its longest sentence",
    )

    @field_validator("host")
    @classmethod
    def _host_not_empty(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("host must not be empty")
        return v

    @model_validator(mode="before")
    @classmethod
    def _accept_old_name(cls, data: Any) -> Any:
        # `precision` (POLICYTAG_PRECISION) was renamed `numerics`: still accepted, with a warning, for one release.
        if not isinstance(data, dict):
            return data
        data = dict(data)
        old, where = data.pop("precision", None), "the setting 'precision'"
        if old is None and "POLICYTAG_PRECISION" in os.environ:
            old, where = os.environ["POLICYTAG_PRECISION"], "POLICYTAG_PRECISION"
        if old is not None:
            warn_renamed(where, "'numerics' (POLICYTAG_NUMERICS)", stacklevel=2)
            data.setdefault("numerics", old)
        return data

    @model_validator(mode="after")
    def _one_request_fits_the_queue(self) -> Settings:
        # A request larger than the whole queue could never be served: it would get 429 forever.
        if self.max_queue < self.max_sentences:
            raise ValueError(f"max_queue ({self.max_queue}) must be >= max_sentences ({self.max_sentences})")
        return self
