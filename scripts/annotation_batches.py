"""Blind annotation batches for the two-pass labelling, and their import into labels/passes/.

The passes must not see each other, so each batch is a self-contained folder for one annotator:

    python scripts/annotation_batches.py export --batches 4 --out "$ANN"
        # per batch k: "$ANN"/k/a/sentences.tsv  (pass A: document order, one document after another)
        #              "$ANN"/k/b/sentences.tsv  (pass B: shuffled, text only)
        # and "$ANN"/keys.json (key -> sentence id; never given to an annotator)
    python scripts/annotation_batches.py import --out "$ANN" --pass a --annotator annotator-a2
    python scripts/annotation_batches.py adjudication-export --out "$ANN" --batches 2
    python scripts/annotation_batches.py adjudication-import --out "$ANN"

An annotator writes ``labels.jsonl`` beside its ``sentences.tsv``: one ``{"key", "labels"}`` per line
(adjudicators add ``"reason"``). Imports validate every label against the taxonomy and refuse a batch
with a missing, unknown or repeated key, naming the file and line.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from policytag.core.jsonl import DataError, iter_jsonl, read_jsonl, write_jsonl  # noqa: E402
from policytag.core.paths import data_path  # noqa: E402
from policytag.core.taxonomy import check_record_labels, load_taxonomy  # noqa: E402
from policytag.labels.corpus import labellable  # noqa: E402

PASSES = data_path("passes")
SENTENCES = data_path("sentences")


def _write_tsv(path: Path, rows: list[tuple[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{k}\t{t}\n" for k, t in rows), encoding="utf-8")


def cmd_export(args: argparse.Namespace) -> int:
    done = {r["id"] for r in read_jsonl(PASSES / "pass_a.jsonl")}
    for keys_file in args.skip:  # batches exported earlier and not imported yet
        done.update(json.loads(Path(keys_file).read_text(encoding="utf-8")).values())
    todo = [s for s in labellable(read_jsonl(SENTENCES)) if s["id"] not in done]
    docs = sorted({s["doc"] for s in todo})
    # Whole documents per batch, so that pass A reads each document in order.
    per_batch: list[list[dict[str, Any]]] = [[] for _ in range(args.batches)]
    for i, doc in enumerate(docs):
        per_batch[i % args.batches].extend(s for s in todo if s["doc"] == doc)
    keys: dict[str, str] = {}
    out = Path(args.out)
    for k, batch in enumerate(per_batch):
        a_rows, b_rows = [], []
        for n, s in enumerate(batch):
            keys[f"a{k}-{n:04d}"] = s["id"]
            a_rows.append((f"a{k}-{n:04d}", s["text"]))
        shuffled = list(batch)
        random.Random(1000 + k).shuffle(shuffled)
        for n, s in enumerate(shuffled):
            keys[f"b{k}-{n:04d}"] = s["id"]
            b_rows.append((f"b{k}-{n:04d}", s["text"]))
        _write_tsv(out / str(k) / "a" / "sentences.tsv", a_rows)
        _write_tsv(out / str(k) / "b" / "sentences.tsv", b_rows)
        print(f"batch {k}: {len(batch)} sentences")
    (out / "keys.json").write_text(json.dumps(keys, ensure_ascii=False), encoding="utf-8")
    return 0


def _read_answers(path: Path, expected: set[str], *, reason: bool) -> dict[str, dict[str, Any]]:
    tax = load_taxonomy()
    got: dict[str, dict[str, Any]] = {}
    for line, rec in iter_jsonl(path):
        key = rec.get("key")
        if key not in expected:
            raise DataError(path, line, f"unknown key {key!r}", field="key")
        if key in got:
            raise DataError(path, line, f"key {key} answered twice", field="key")
        labels = tax.sort(check_record_labels(tax, rec, path=path, line=line))
        if reason and not str(rec.get("reason", "")).strip():
            raise DataError(path, line, "an adjudication needs a reason", field="reason")
        got[key] = {"labels": labels, "reason": str(rec.get("reason", "")).strip()}
    missing = sorted(expected - set(got))
    if missing:
        raise DataError(path, None, f"{len(missing)} keys unanswered, e.g. {missing[0]}")
    return got


def _batch_keys(tsv: Path) -> set[str]:
    return {line.split("\t", 1)[0] for line in tsv.read_text(encoding="utf-8").splitlines() if line}


def cmd_check(args: argparse.Namespace) -> int:
    """Validate every answered batch, and flag runs of keys where the two passes stop agreeing.

    Two passes agree on about nine sentences in ten. A run of ``--window`` consecutive keys (in one
    pass's own order) agreeing on fewer than half means answers went to the wrong keys (a chunk
    written twice, shifted or swapped), not a hard passage: the run is printed for relabelling.
    """
    out = Path(args.out)
    keys: dict[str, str] = json.loads((out / "keys.json").read_text(encoding="utf-8"))
    bad = 0
    for folder in sorted(p for p in out.iterdir() if p.is_dir() and p.name.isdigit()):
        answers: dict[str, dict[str, list[str]]] = {}
        order: dict[str, list[str]] = {}
        for pass_ in ("a", "b"):
            sub = folder / pass_
            if not (sub / "labels.jsonl").is_file():
                print(f"{sub}: not answered yet")
                continue
            try:
                got = _read_answers(sub / "labels.jsonl", _batch_keys(sub / "sentences.tsv"), reason=False)
            except DataError as e:
                print(f"INVALID {e}")
                bad += 1
                continue
            order[pass_] = [
                line.split("\t", 1)[0] for line in (sub / "sentences.tsv").read_text(encoding="utf-8").splitlines()
            ]
            answers[pass_] = {keys[k]: v["labels"] for k, v in got.items()}
        if len(answers) < 2:
            continue
        same = {sid: answers["a"][sid] == answers["b"][sid] for sid in answers["a"]}
        print(f"{folder}: {len(same)} sentences, passes agree on {sum(same.values()) / len(same):.1%}")
        for pass_, ks in order.items():
            flags = [same[keys[k]] for k in ks]
            for start in range(0, max(len(flags) - args.window + 1, 1), args.window // 2):
                window = flags[start : start + args.window]
                if window and sum(window) / len(window) < 0.5:
                    print(
                        f"  SUSPECT {folder.name}/{pass_} keys {ks[start]}..{ks[start + len(window) - 1]}: "
                        f"agreement {sum(window) / len(window):.0%}"
                    )
                    bad += 1
    return 1 if bad else 0


def cmd_import(args: argparse.Namespace) -> int:
    out = Path(args.out)
    keys: dict[str, str] = json.loads((out / "keys.json").read_text(encoding="utf-8"))
    target = PASSES / f"pass_{args.pass_}.jsonl"
    existing = read_jsonl(target)
    have = {r["id"] for r in existing}
    new = []
    folders = sorted(p for p in out.iterdir() if p.is_dir() and (p / args.pass_ / "labels.jsonl").is_file())
    for folder in (f for f in folders if not args.only or f.name in args.only):
        sub = folder / args.pass_
        answers = _read_answers(sub / "labels.jsonl", _batch_keys(sub / "sentences.tsv"), reason=False)
        annotator = f"{args.annotator}-{folder.name}"
        for key, ans in sorted(answers.items()):
            sid = keys[key]
            if sid not in have:
                new.append({"id": sid, "labels": ans["labels"], "annotator": annotator})
                have.add(sid)
        print(f"{sub}: {len(answers)} answers")
    write_jsonl(target, [*existing, *new])
    print(f"appended {len(new)} labels to {target}")
    return 0


def cmd_adjudication_export(args: argparse.Namespace) -> int:
    a = {r["id"]: r["labels"] for r in read_jsonl(PASSES / "pass_a.jsonl")}
    b = {r["id"]: r["labels"] for r in read_jsonl(PASSES / "pass_b.jsonl")}
    settled = {r["id"] for r in read_jsonl(PASSES / "adjudication.jsonl")}
    for keys_file in args.skip:  # adjudication batches exported earlier and not imported yet
        settled.update(json.loads(Path(keys_file).read_text(encoding="utf-8")).values())
    texts = {s["id"]: s["text"] for s in read_jsonl(SENTENCES)}
    todo = [sid for sid in texts if sid in a and sid in b and sorted(a[sid]) != sorted(b[sid]) and sid not in settled]
    out = Path(args.out) / "adjudication"
    keys: dict[str, str] = {}
    for k in range(args.batches):
        rows = []
        for n, sid in enumerate(todo[k :: args.batches]):
            key = f"j{k}-{n:04d}"
            keys[key] = sid
            rows.append((key, f"{texts[sid]}\tA={','.join(a[sid])}\tB={','.join(b[sid])}"))
        _write_tsv(out / str(k) / "sentences.tsv", rows)
        print(f"adjudication batch {k}: {len(rows)} disagreements")
    (out / "keys.json").write_text(json.dumps(keys, ensure_ascii=False), encoding="utf-8")
    return 0


def cmd_adjudication_import(args: argparse.Namespace) -> int:
    out = Path(args.out) / "adjudication"
    keys: dict[str, str] = json.loads((out / "keys.json").read_text(encoding="utf-8"))
    target = PASSES / "adjudication.jsonl"
    existing = read_jsonl(target)
    have = {r["id"] for r in existing}
    new = []
    for folder in sorted(p for p in out.iterdir() if p.is_dir()):
        answers = _read_answers(folder / "labels.jsonl", _batch_keys(folder / "sentences.tsv"), reason=True)
        for key, ans in sorted(answers.items()):
            if keys[key] not in have:
                new.append({"id": keys[key], "labels": ans["labels"], "reason": ans["reason"]})
        print(f"{folder}: {len(answers)} decisions")
    write_jsonl(target, [*existing, *new])
    print(f"appended {len(new)} adjudications to {target}")
    return 0


def _subcommand(sub: Any, name: str, func: Any, help: str) -> argparse.ArgumentParser:
    """A subcommand that works on the export folder ``--out``."""
    p: argparse.ArgumentParser = sub.add_parser(name, help=help)
    p.add_argument("--out", required=True)
    p.set_defaults(func=func)
    return p


def _export_options(p: argparse.ArgumentParser, *, batches: int) -> None:
    p.add_argument("--batches", type=int, default=batches)
    p.add_argument("--skip", nargs="*", default=[], metavar="KEYS_JSON", help="keys.json of earlier exports to skip")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    e = _subcommand(sub, "export", cmd_export, "write blind batches of the sentences no pass has labelled yet")
    _export_options(e, batches=4)
    i = _subcommand(sub, "import", cmd_import, "append one pass's answers to labels/passes/pass_X.jsonl")
    i.add_argument("--pass", dest="pass_", choices=("a", "b"), required=True)
    i.add_argument("--annotator", required=True)
    i.add_argument("--only", nargs="*", default=[], metavar="BATCH", help="import only these batch folders")
    c = _subcommand(
        sub, "check", cmd_check, "validate answered batches; flag runs of keys where the passes stop agreeing"
    )
    c.add_argument("--window", type=int, default=40)
    ae = _subcommand(
        sub, "adjudication-export", cmd_adjudication_export, "write batches of the disagreements of the two passes"
    )
    _export_options(ae, batches=2)
    _subcommand(
        sub, "adjudication-import", cmd_adjudication_import, "append adjudications to labels/passes/adjudication.jsonl"
    )
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
