"""Put one real annotation batch through the kit's Label Studio loop, as two annotators.

The corpus-growth batches are labelled by two blind passes (``scripts/annotation_batches.py``). This
script sends one of them through a real Label Studio 1.23.2 on 127.0.0.1, the way the loop is meant
to be used: push the batch's sentences with a model's pre-annotations (``policytag labels push``'s
code), create each pass's labels as annotations of two Label Studio users, pull them back
(``policytag labels pull``) and compute their agreement (``policytag labels agreement``). It fails
unless every annotation comes back with the labels it was given. Prints a JSON report; the pulled
annotation log is copied to ``--log-out``.

    python scripts/labelstudio_batch.py --batch "$ANN"/w1/0 --keys "$ANN"/w1/keys.json \\
        --model models/demo --log-out labels/passes/labelstudio_batch.jsonl
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from policytag.cli import main as policytag_main  # noqa: E402
from policytag.core.jsonl import read_jsonl, write_jsonl  # noqa: E402
from policytag.core.paths import data_path  # noqa: E402
from policytag.core.taxonomy import load_taxonomy  # noqa: E402
from policytag.labels.labelstudio import server as ls_server  # noqa: E402
from policytag.labels.labelstudio.client import connect, list_tasks  # noqa: E402
from policytag.labels.labelstudio.push import PushResult, choices_result, push  # noqa: E402

PROJECT = "corpus-growth-batch"


def _answers(folder: Path, keys: dict[str, str]) -> dict[str, list[str]]:
    return {keys[r["key"]]: r["labels"] for r in read_jsonl(folder / "labels.jsonl")}


def _cli(argv: list[str]) -> tuple[int, str]:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = policytag_main(argv)
    return rc, buf.getvalue()


@dataclass(frozen=True)
class Batch:
    """One exported batch: each pass's labels by sentence id, the ids both passes answered, their records."""

    passes: dict[str, dict[str, list[str]]]
    ids: list[str]
    sentences: list[dict[str, Any]]


def read_batch(batch: Path, keys_path: Path) -> Batch:
    keys: dict[str, str] = json.loads(keys_path.read_text(encoding="utf-8"))
    passes = {"a": _answers(batch / "a", keys), "b": _answers(batch / "b", keys)}
    ids = sorted(set(passes["a"]) & set(passes["b"]))
    by_id = {s["id"]: s for s in read_jsonl(data_path("sentences"))}
    return Batch(passes=passes, ids=ids, sentences=[by_id[i] for i in ids])


def _annotate(url: str, users: dict[str, ls_server.Credentials], tasks: dict[str, int], batch: Batch) -> None:
    """Each pass's labels as the annotations of its own Label Studio user."""
    for name, cred in users.items():
        client = connect(url, cred.token)
        for sid in batch.ids:
            client.sdk.annotations.create(id=tasks[sid], result=choices_result(batch.passes[name][sid]), lead_time=1.0)


def _through_label_studio(
    batch: Batch, predictor: Any, work: Path, users: dict[str, ls_server.Credentials], seconds: dict[str, float]
) -> tuple[PushResult, int]:
    """Push, annotate as ``users`` and pull into ``work/log.jsonl`` on a scratch server; (push result, pull's exit)."""
    admin = ls_server.Credentials.generate("admin@policytag.local")
    with ls_server.start_server(work / "ls-data", admin) as server:
        for cred in users.values():
            ls_server.create_user(server.data_dir, cred)
        admin_client = connect(server.url, admin.token)
        t0 = time.monotonic()
        pushed = push(admin_client, PROJECT, batch.sentences, load_taxonomy(), predictor=predictor)
        seconds["push"] = time.monotonic() - t0
        assert pushed.project_id is not None
        tasks = {t["data"]["sentence_id"]: int(t["id"]) for t in list_tasks(admin_client, pushed.project_id)}
        t0 = time.monotonic()
        _annotate(server.url, users, tasks, batch)
        seconds["annotate"] = time.monotonic() - t0
        argv = ["labels", "pull", "--project", PROJECT, "--url", server.url, "--api-key", admin.token]
        argv += ["--out", str(work / "log.jsonl"), "--consolidated", str(work / "consolidated.jsonl")]
        argv += ["--conflicts", str(work / "conflicts.jsonl"), "--gold", str(work / "no-gold.jsonl")]
        t0 = time.monotonic()
        rc_pull, _ = _cli(argv)
        seconds["pull"] = time.monotonic() - t0
    return pushed, rc_pull


def run(batch_dir: Path, keys_path: Path, model: str | None, log_out: Path | None) -> dict[str, Any]:
    taxonomy = load_taxonomy()
    batch = read_batch(batch_dir, keys_path)
    predictor = None
    if model:
        from policytag.training.predictor import load_predictor

        predictor = load_predictor(model)
    users = {p: ls_server.Credentials.generate(f"annotator-{p}@policytag.local") for p in ("a", "b")}
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="ls-batch-") as tmp:
        work = Path(tmp)
        write_jsonl(work / "sentences.jsonl", batch.sentences)
        pushed, rc_pull = _through_label_studio(batch, predictor, work, users, seconds)
        log = read_jsonl(work / "log.jsonl") if rc_pull == 0 else []
        rc_agree, out_agree = _cli(["labels", "agreement", "--log", str(work / "log.jsonl"), "--json"])
        agreement = json.loads(out_agree) if rc_agree == 0 else {}
        if log_out is not None and rc_pull == 0:
            log_out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(work / "log.jsonl", log_out)
    ids, passes = batch.ids, batch.passes
    who = {users["a"].username: "a", users["b"].username: "b"}
    returned = {(who.get(r["annotator"], "?"), r["sentence_id"]): r["labels"] for r in log}
    lost = [(p, sid) for p in ("a", "b") for sid in ids if returned.get((p, sid)) != taxonomy.sort(passes[p][sid])]
    report = {
        "sentences": len(ids),
        "tasks_pushed": pushed.tasks_after,
        "pre_annotations_from": model,
        "annotations_made": 2 * len(ids),
        "annotations_pulled": len(log),
        "annotations_lost_or_changed": len(lost),
        "agreement": {k: agreement.get(k) for k in ("method", "items", "exact_match", "per_label", "annotators")},
        "conflicts": len(agreement.get("conflicts", [])),
        "seconds": {k: round(v, 1) for k, v in seconds.items()},
    }
    report["ok"] = rc_pull == 0 and rc_agree == 0 and not lost and len(log) == 2 * len(ids)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", required=True, help="batch folder with a/ and b/ (sentences.tsv, labels.jsonl)")
    parser.add_argument("--keys", required=True, help="keys.json of the export (key -> sentence id)")
    parser.add_argument("--model", help="model folder whose predictions become pre-annotations")
    parser.add_argument("--log-out", help="copy the pulled annotation log here")
    args = parser.parse_args(argv)
    report = run(Path(args.batch), Path(args.keys), args.model, Path(args.log_out) if args.log_out else None)
    print(json.dumps(report, ensure_ascii=False, indent=1))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
