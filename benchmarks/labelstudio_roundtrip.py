"""A 1,000-sentence round trip through a real Label Studio: push twice, annotate, pull twice; JSON out.

Starts Label Studio 1.23.2 from ``.venv-ls`` (installed when missing) on a free port of 127.0.0.1 with a
scratch data dir, makes ``--sentences`` distinct sentences from ``labels/sentences.jsonl`` (each derived
from one of the 449 with its index appended and a unique ``sentence_id``), then:

1. pushes them (``policytag labels push``'s code), optionally with a model's predictions;
2. annotates ``--annotate`` tasks through the SDK;
3. pushes them again: nothing may be created, every annotation must survive;
4. pulls twice (``policytag labels pull``): the first adds every annotation to the log, the second none.

It fails (exit 1) unless the project ends with exactly ``--sentences`` tasks and the log and the
consolidated set hold every annotation made. Prints counts and seconds per step as JSON.

    python -m benchmarks.labelstudio_roundtrip [--sentences 1000] [--annotate 200] [--model DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policytag.cli import main as policytag_main
from policytag.core import paths
from policytag.core.jsonl import read_jsonl, write_jsonl
from policytag.core.taxonomy import Taxonomy, load_taxonomy
from policytag.labels.labelstudio import server as ls_server
from policytag.labels.labelstudio.client import Client, connect, list_tasks
from policytag.labels.labelstudio.push import PushResult, choices_result, push, read_sentences

PROJECT = "roundtrip-benchmark"


def derived_sentences(n: int) -> list[dict[str, Any]]:
    """``n`` distinct sentence records made from labels/sentences.jsonl (index appended, unique ids)."""
    base = read_sentences(paths.data_path("sentences"))
    out = []
    for i in range(n):
        s = base[i % len(base)]
        out.append({"id": f"bench{i:05d}:{s['id']}", "text": f"{s['text']}（{i}）", "doc": s["doc"], "index": i})
    return out


def _pull(url: str, key: str, work: Path) -> tuple[int, str]:
    argv = ["labels", "pull", "--project", PROJECT, "--url", url, "--api-key", key]
    argv += ["--out", str(work / "annotations.jsonl"), "--consolidated", str(work / "consolidated.jsonl")]
    argv += ["--conflicts", str(work / "conflicts.jsonl"), "--gold", str(work / "no-gold.jsonl")]
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = policytag_main(argv)
    return rc, buf.getvalue()


@contextlib.contextmanager
def _timed(timings: dict[str, float], step: str) -> Iterator[None]:
    t0 = time.monotonic()
    yield
    timings[step] = time.monotonic() - t0


@dataclass
class Trip:
    """What the round trip's steps left behind, for the counts and the verdict."""

    first: PushResult
    second: PushResult
    made: dict[int, str]  # annotation id -> sentence id
    pulls: list[tuple[int, str]]  # (exit status, output) of each pull
    log_1: list[dict[str, Any]]
    log_2: list[dict[str, Any]]
    final: list[dict[str, Any]]
    consolidated: set[str]
    timings: dict[str, float] = field(default_factory=dict)


def _annotate(client: Client, project_id: int, taxonomy: Taxonomy, count: int) -> dict[int, str]:
    """Annotate the first ``count`` tasks (one category each, in turn); annotation id -> sentence id."""
    tasks = list_tasks(client, project_id, fields="task_only")
    made: dict[int, str] = {}
    for i, task in enumerate(sorted(tasks, key=lambda t: int(t["id"]))[:count]):
        label = taxonomy.categories[i % len(taxonomy.categories)]
        ann = client.sdk.annotations.create(id=int(task["id"]), result=choices_result([label]), lead_time=1.0)
        made[int(ann.id)] = task["data"]["sentence_id"]
    return made


def _trip(
    stack: contextlib.ExitStack, work: Path, sentences: list[dict[str, Any]], annotate: int, predictor: Any
) -> Trip:
    """Start Label Studio, push, annotate, push again, pull twice; the steps' results and seconds."""
    taxonomy = load_taxonomy()
    timings: dict[str, float] = {}
    admin = ls_server.Credentials.generate("admin@policytag.bench")
    with _timed(timings, "server_start_s"):
        server = stack.enter_context(ls_server.start_server(work / "ls-data", admin))
    client = connect(server.url, admin.token)
    with _timed(timings, "push_1_s"):
        first = push(client, PROJECT, sentences, taxonomy, predictor=predictor)
    assert first.project_id is not None
    with _timed(timings, "annotate_s"):
        made = _annotate(client, first.project_id, taxonomy, annotate)
    with _timed(timings, "push_2_s"):
        second = push(client, PROJECT, sentences, taxonomy, predictor=predictor)
    with _timed(timings, "pull_1_s"):
        rc1, out1 = _pull(server.url, admin.token, work)
    log_1 = read_jsonl(work / "annotations.jsonl") if rc1 == 0 else []
    with _timed(timings, "pull_2_s"):
        rc2, out2 = _pull(server.url, admin.token, work)
    log_2 = read_jsonl(work / "annotations.jsonl") if rc2 == 0 else []
    final = list_tasks(client, first.project_id)
    consolidated = {r["id"] for r in read_jsonl(work / "consolidated.jsonl")} if rc2 == 0 else set()
    return Trip(first, second, made, [(rc1, out1), (rc2, out2)], log_1, log_2, final, consolidated, timings)


def _counts(n: int, trip: Trip, *, with_predictions: bool) -> dict[str, Any]:
    logged = {int(r["annotation_id"]) for r in trip.log_2}
    seconds = {k: round(v, 2) for k, v in trip.timings.items()}
    seconds["round_trip_total"] = round(sum(v for k, v in trip.timings.items() if k != "server_start_s"), 2)
    return {
        "sentences": n,
        "tasks_after_push_1": trip.first.tasks_after,
        "tasks_after_push_2": trip.second.tasks_after,
        "push_2_created": len(trip.second.plan.create),
        "tasks_final": len(trip.final),
        "distinct_sentence_ids_in_project": len({t["data"]["sentence_id"] for t in trip.final}),
        "annotations_made": len(trip.made),
        "annotations_in_label_studio": sum(len(t.get("annotations") or []) for t in trip.final),
        "log_lines_after_pull_1": len(trip.log_1),
        "log_lines_after_pull_2": len(trip.log_2),
        "annotations_lost": len(set(trip.made) - logged),
        "annotated_sentences_missing_from_consolidated": len(set(trip.made.values()) - trip.consolidated),
        "pull_rc": [rc for rc, _ in trip.pulls],
        "with_predictions": with_predictions,
        "seconds": seconds,
    }


def _ok(result: dict[str, Any], trip: Trip) -> bool:
    """Every task made once, kept by the second push, and every annotation pulled once, into the log and the set."""
    n, made = result["sentences"], len(trip.made)
    (rc1, out1), (rc2, out2) = trip.pulls
    return (
        result["tasks_after_push_1"] == n
        and result["tasks_after_push_2"] == n
        and result["push_2_created"] == 0
        and result["tasks_final"] == n
        and result["distinct_sentence_ids_in_project"] == n
        and result["annotations_in_label_studio"] == made
        and result["log_lines_after_pull_1"] == made
        and result["log_lines_after_pull_2"] == made
        and result["annotations_lost"] == 0
        and result["annotated_sentences_missing_from_consolidated"] == 0
        and rc1 == rc2 == 0
        and f"added {made} new" in out1
        and "added 0 new" in out2
    )


def run(n: int = 1000, annotate: int = 200, *, model: str | None = None, work: Path | None = None) -> dict[str, Any]:
    """The round trip; returns counts, timings and ``ok``. Raises ``ServerError`` when Label Studio cannot start."""
    predictor = None
    if model:
        from policytag.training.predictor import load_predictor

        predictor = load_predictor(model)
    with contextlib.ExitStack() as stack:
        if work is None:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ls-roundtrip-")))
        sentences = derived_sentences(n)
        assert len({s["id"] for s in sentences}) == n and len({s["text"] for s in sentences}) == n
        write_jsonl(work / "sentences.jsonl", sentences)
        trip = _trip(stack, work, sentences, annotate, predictor)
    result = _counts(n, trip, with_predictions=predictor is not None)
    result["ok"] = _ok(result, trip)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=1000, help="sentences to push (default: %(default)s)")
    parser.add_argument("--annotate", type=int, default=200, help="tasks to annotate (default: %(default)s)")
    parser.add_argument("--model", help="model folder: push with its predictions")
    args = parser.parse_args(argv)
    try:
        result = run(args.sentences, args.annotate, model=args.model)
    except ls_server.ServerError as e:
        print(json.dumps({"ok": False, "error": str(e)}), file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
