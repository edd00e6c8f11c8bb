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

    python benchmarks/labelstudio_roundtrip.py [--sentences 1000] [--annotate 200] [--model DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from policytag.cli import main as policytag_main
from policytag.core.jsonl import read_jsonl, write_jsonl
from policytag.core.taxonomy import load_taxonomy
from policytag.labels.labelstudio import server as ls_server
from policytag.labels.labelstudio.client import connect, list_tasks
from policytag.labels.labelstudio.push import choices_result, push, read_sentences

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "roundtrip-benchmark"


def derived_sentences(n: int) -> list[dict[str, Any]]:
    """``n`` distinct sentence records made from labels/sentences.jsonl (index appended, unique ids)."""
    base = read_sentences(ROOT / "labels" / "sentences.jsonl")
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


def run(n: int = 1000, annotate: int = 200, *, model: str | None = None, work: Path | None = None) -> dict[str, Any]:
    """The round trip; returns counts, timings and ``ok``. Raises ``ServerError`` when Label Studio cannot start."""
    taxonomy = load_taxonomy()
    predictor = None
    if model:
        from policytag.training.predictor import load_predictor

        predictor = load_predictor(model)
    timings: dict[str, float] = {}
    with contextlib.ExitStack() as stack:
        if work is None:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ls-roundtrip-")))
        sentences = derived_sentences(n)
        assert len({s["id"] for s in sentences}) == n and len({s["text"] for s in sentences}) == n
        write_jsonl(work / "sentences.jsonl", sentences)
        admin = ls_server.Credentials.generate("admin@policytag.bench")
        t0 = time.monotonic()
        server = stack.enter_context(ls_server.start_server(work / "ls-data", admin))
        timings["server_start_s"] = time.monotonic() - t0
        client = connect(server.url, admin.token)

        t0 = time.monotonic()
        first = push(client, PROJECT, sentences, taxonomy, predictor=predictor)
        timings["push_1_s"] = time.monotonic() - t0
        assert first.project_id is not None

        t0 = time.monotonic()
        tasks = list_tasks(client, first.project_id, fields="task_only")
        made: dict[int, str] = {}  # annotation id -> sentence id
        for i, task in enumerate(sorted(tasks, key=lambda t: int(t["id"]))[:annotate]):
            label = taxonomy.categories[i % len(taxonomy.categories)]
            ann = client.sdk.annotations.create(id=int(task["id"]), result=choices_result([label]), lead_time=1.0)
            made[int(ann.id)] = task["data"]["sentence_id"]
        timings["annotate_s"] = time.monotonic() - t0

        t0 = time.monotonic()
        second = push(client, PROJECT, sentences, taxonomy, predictor=predictor)
        timings["push_2_s"] = time.monotonic() - t0

        t0 = time.monotonic()
        rc1, out1 = _pull(server.url, admin.token, work)
        timings["pull_1_s"] = time.monotonic() - t0
        log_1 = read_jsonl(work / "annotations.jsonl") if rc1 == 0 else []
        t0 = time.monotonic()
        rc2, out2 = _pull(server.url, admin.token, work)
        timings["pull_2_s"] = time.monotonic() - t0
        log_2 = read_jsonl(work / "annotations.jsonl") if rc2 == 0 else []

        final = list_tasks(client, first.project_id)
        consolidated = {r["id"] for r in read_jsonl(work / "consolidated.jsonl")} if rc2 == 0 else set()
    annotated_in_ls = sum(len(t.get("annotations") or []) for t in final)
    logged = {int(r["annotation_id"]) for r in log_2}
    result: dict[str, Any] = {
        "sentences": n,
        "tasks_after_push_1": first.tasks_after,
        "tasks_after_push_2": second.tasks_after,
        "push_2_created": len(second.plan.create),
        "tasks_final": len(final),
        "distinct_sentence_ids_in_project": len({t["data"]["sentence_id"] for t in final}),
        "annotations_made": len(made),
        "annotations_in_label_studio": annotated_in_ls,
        "log_lines_after_pull_1": len(log_1),
        "log_lines_after_pull_2": len(log_2),
        "annotations_lost": len(set(made) - logged),
        "annotated_sentences_missing_from_consolidated": len(set(made.values()) - consolidated),
        "pull_rc": [rc1, rc2],
        "with_predictions": predictor is not None,
        "seconds": {k: round(v, 2) for k, v in timings.items()},
    }
    result["seconds"]["round_trip_total"] = round(sum(v for k, v in timings.items() if k != "server_start_s"), 2)
    result["ok"] = (
        result["tasks_after_push_1"] == n
        and result["tasks_after_push_2"] == n
        and result["push_2_created"] == 0
        and result["tasks_final"] == n
        and result["distinct_sentence_ids_in_project"] == n
        and result["annotations_in_label_studio"] == len(made)
        and result["log_lines_after_pull_1"] == len(made)
        and result["log_lines_after_pull_2"] == len(made)
        and result["annotations_lost"] == 0
        and result["annotated_sentences_missing_from_consolidated"] == 0
        and rc1 == rc2 == 0
        and f"added {len(made)} new" in out1
        and "added 0 new" in out2
    )
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
