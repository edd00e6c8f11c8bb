"""The collection job (``policytag tag``): which files still need tagging, one engine, then the bookkeeping.

:func:`tag_collection` is the driver both engines share, so resume, errors and the manifest behave the
same on either: it loads the predictor, expands the inputs (:mod:`policytag.collection.inputs`), hashes
every file, skips those whose sha256 the results already hold (an interrupted job resumes where it was
killed; an unchanged re-run tags nothing; a changed file is tagged again), hands the rest to the local
engine or Ray Data, writes ``errors.jsonl`` and ``manifest.json``, and finally removes the rows of files
that changed (:func:`policytag.collection.store.remove_stale`), so a path never has two versions in the
tables. A file that fails never stops the job; :attr:`TagSummary.exit_status` is 1 only when the caller
asked for ``strict`` and some file failed.

Example:
    >>> summary = tag_collection(["reports/"], model="models/demo", out="results/")  # doctest: +SKIP
    >>> summary.tagged, summary.failed, summary.exit_status  # doctest: +SKIP
    (412, 0, 0)
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from policytag.collection import local_engine, store
from policytag.collection.engine import EngineOptions, EngineResult, FileFailure, InputFile
from policytag.collection.inputs import SUPPORTED_SUFFIXES, expand_inputs, file_sha256, is_supported
from policytag.core.version import __version__
from policytag.training.predictor import Predictor, load_predictor

__all__ = ["ENGINES", "TagSummary", "tag_collection"]

ENGINES = ("local", "ray")


@dataclass(frozen=True, kw_only=True)
class TagSummary:
    """What one job did (this run) and what the results folder holds now (all runs)."""

    results: Path
    engine: str
    inputs: int
    tagged: int
    sentences: int
    already_done: int
    duplicates: int
    failures: tuple[FileFailure, ...]
    stale_removed: int
    total_documents: int
    total_sentences: int
    seconds: float  # the whole job: model loading, hashing, tagging, bookkeeping
    tagging_seconds: float = 0.0  # the engine's run alone
    strict: bool = False

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def sentences_per_second(self) -> float:
        """The engine's throughput: sentences tagged per second of its run."""
        return self.sentences / self.tagging_seconds if self.tagging_seconds > 0 else 0.0

    @property
    def exit_status(self) -> int:
        """0, or 1 when the job was strict and some file failed."""
        return 1 if self.strict and self.failures else 0


@dataclass
class _Plan:
    """The inputs sorted into work: files to tag, files skipped, files that already failed."""

    todo: list[InputFile] = field(default_factory=list)
    current: dict[str, str] = field(default_factory=dict)  # source path -> sha256 now
    failures: list[FileFailure] = field(default_factory=list)
    already_done: int = 0
    duplicates: int = 0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _plan(files: Sequence[InputFile], done: dict[str, str], *, progress: bool) -> _Plan:
    plan = _Plan()
    planned: set[str] = set()
    for file in tqdm(files, desc="hashing", unit="file", disable=not progress, leave=False):
        try:
            sha = file_sha256(file.path)
        except OSError as e:
            plan.failures.append(FileFailure(source_path=file.source_path, reason=f"cannot read ({e.strerror})"))
            continue
        plan.current[file.source_path] = sha
        if not is_supported(file.path):
            suffix = file.path.suffix or "(none)"
            reason = f"unsupported file type {suffix}; expected one of {', '.join(SUPPORTED_SUFFIXES)}"
            plan.failures.append(FileFailure(source_path=file.source_path, reason=reason, sha256=sha))
        elif sha in done:
            plan.already_done += 1
        elif sha in planned:
            plan.duplicates += 1  # the same bytes under another path: one document, tagged once
        else:
            planned.add(sha)
            plan.todo.append(file)
    return plan


def _check_same_model(results: Path, predictor: Predictor) -> None:
    """Refuse to mix two models' rows in one results folder (its tables would disagree with themselves)."""
    old = store.read_manifest(results)
    if old is None or not store.shard_names(results):
        return
    was = (old.get("model", {}).get("version"), old.get("taxonomy"))
    if was != (predictor.version, list(predictor.taxonomy.ids)):
        raise ValueError(
            f"{results}: holds results of model {old.get('model', {}).get('name')} version {was[0]}, "
            f"not of {predictor.name} version {predictor.version}; use another --out or delete the folder"
        )


def _manifest(predictor: Predictor, options: EngineOptions, engine: str, started: str) -> dict[str, Any]:
    taxonomy = predictor.taxonomy
    n_docs, n_sents = store.counts(options.results)
    return {
        "format": 1,
        "model": {
            "name": predictor.name,
            "folder": str(options.model.resolve()),
            "version": predictor.version,
            "kind": predictor.manifest.get("kind"),
        },
        "thresholds": {i: float(t) for i, t in zip(taxonomy.ids, predictor.thresholds, strict=True)},
        "taxonomy": list(taxonomy.ids),
        "taxonomy_definition": taxonomy.to_dict(),
        "kit_version": __version__,
        "engine": engine,
        "run_id": options.run_id,
        "options": {
            "batch_sentences": options.batch_sentences,
            "shard_documents": options.shard_documents,
            "workers": options.workers,
            "normalize": options.normalize,
        },
        "started": started,
        "finished": None,
        "status": "running",
        "counts": {"documents": n_docs, "sentences": n_sents},
    }


def _run_engine(
    engine: str,
    todo: list[InputFile],
    options: EngineOptions,
    predictor: Predictor,
    readers: ProcessPoolExecutor | None,
) -> EngineResult:
    if not todo:
        return EngineResult()
    if engine == "local":
        return local_engine.run(todo, options, predictor=predictor, readers=readers)
    from policytag.collection import ray_engine

    return ray_engine.run(todo, options)


def _complete(failure: FileFailure, current: dict[str, str]) -> FileFailure:
    """The sha256 the job read, and the reason without the path (``errors.jsonl`` has the path beside it)."""
    first, sep, rest = failure.reason.partition(": ")
    reason = rest if sep and Path(first).name == Path(failure.source_path).name else failure.reason
    return dataclasses.replace(failure, reason=reason, sha256=failure.sha256 or current.get(failure.source_path))


def _finish(results: Path, manifest: dict[str, Any], summary: TagSummary, errors: int) -> None:
    run = {
        "inputs": summary.inputs,
        "tagged": summary.tagged,
        "sentences": summary.sentences,
        "already_done": summary.already_done,
        "duplicates": summary.duplicates,
        "failed": summary.failed,
        "stale_removed": summary.stale_removed,
        "seconds": round(summary.seconds, 3),
        "tagging_seconds": round(summary.tagging_seconds, 3),
    }
    counts = {"documents": summary.total_documents, "sentences": summary.total_sentences, "errors": errors}
    store.write_manifest(results, {**manifest, "finished": _now(), "status": "finished", "counts": counts, "run": run})


def tag_collection(
    inputs: Iterable[str | Path],
    *,
    model: str | Path,
    out: str | Path,
    engine: str = "local",
    strict: bool = False,
    **options: Any,
) -> TagSummary:
    """Tag every document of ``inputs`` with the model folder ``model`` into the results folder ``out``.

    ``options`` are :class:`~policytag.collection.engine.EngineOptions` fields (``workers``,
    ``batch_sentences``, ``shard_documents``, ``normalize``, ``progress``, ``ray_address``), checked
    before any work starts.

    Raises:
        ValueError: an unknown engine, a bad option, an input that names nothing, a results folder of
            another model, or another job writing into ``out``.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    clock, started = time.perf_counter(), _now()
    run_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
    opts = EngineOptions(model=Path(model), results=Path(out), run_id=run_id, **options)
    files = expand_inputs(inputs)
    if engine == "ray":
        from policytag.collection import ray_engine

        ray_engine.check_available()
    # the reading workers start now and get ready while the model loads and the files are hashed
    readers = local_engine.start_readers(opts.workers) if engine == "local" else None
    try:
        return _tag(engine, files, opts, strict=strict, clock=clock, started=started, readers=readers)
    finally:
        if readers is not None:
            readers.shutdown(cancel_futures=True)  # already shut down when the engine ran


def _tag(
    engine: str,
    files: list[InputFile],
    opts: EngineOptions,
    *,
    strict: bool,
    clock: float,
    started: str,
    readers: ProcessPoolExecutor | None,
) -> TagSummary:
    predictor = load_predictor(opts.model)
    with store.locked(opts.results):
        _check_same_model(opts.results, predictor)
        store.clean(opts.results)
        plan = _plan(files, store.done(opts.results), progress=opts.progress)
        manifest = _manifest(predictor, opts, engine, started)
        store.write_manifest(opts.results, manifest)
        engine_clock = time.perf_counter()
        result = _run_engine(engine, plan.todo, opts, predictor, readers)
        tagging_seconds = time.perf_counter() - engine_clock
        failures = plan.failures + [_complete(f, plan.current) for f in result.failures]
        errors = store.write_errors(opts.results, failures, attempted={f.source_path for f in files}, time=_now())
        stale = store.remove_stale(opts.results, plan.current)
        n_docs, n_sents = store.counts(opts.results)
        summary = TagSummary(
            results=opts.results,
            engine=engine,
            inputs=len(files),
            tagged=result.documents,
            sentences=result.sentences,
            already_done=plan.already_done,
            duplicates=plan.duplicates,
            failures=tuple(sorted(failures, key=lambda f: f.source_path)),
            stale_removed=stale,
            total_documents=n_docs,
            total_sentences=n_sents,
            seconds=time.perf_counter() - clock,
            tagging_seconds=tagging_seconds,
            strict=strict,
        )
        _finish(opts.results, manifest, summary, errors)
    return summary
