"""Subcommands ``policytag train | pretrain | evaluate | cv | compare | predict | guard``."""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from policytag.cli.options import add_command, flag, numerics_option
from policytag.core.paths import data_path
from policytag.training.config import PretrainConfig, TrainConfig, add_dataclass_arguments, config_from_args

__all__ = ["register"]


def _setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", force=True)
    # The libraries' own INFO chatter drowns the kit's messages.
    for noisy in ("httpx", "urllib3", "filelock", "matplotlib", "datasets", "huggingface_hub"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def register(sub: Any) -> None:
    """Add ``train``, ``pretrain``, ``evaluate``, ``cv``, ``compare``, ``predict`` and ``guard`` to the subparsers."""
    for add in (_add_train, _add_pretrain, _add_evaluate, _add_cv, _add_compare, _add_predict, _register_guard):
        add(sub)


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", default=str(data_path("default_config")), help="YAML config file (default: %(default)s)"
    )


def _model_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="model folder")


def _add_train(sub: Any) -> None:
    t = add_command(sub, "train", cmd_train)
    _config_option(t)
    add_dataclass_arguments(t, TrainConfig)


def _add_pretrain(sub: Any) -> None:
    p = add_command(sub, "pretrain", cmd_pretrain)
    p.add_argument("--config", default=None, help="YAML config file with PretrainConfig fields")
    add_dataclass_arguments(p, PretrainConfig)


def _add_evaluate(sub: Any) -> None:
    e = add_command(sub, "evaluate", cmd_evaluate)
    _model_option(e)
    e.add_argument("--data", required=True, help="labelled JSONL")
    flag(e, "--json", "print one JSON object (macro_f1, micro_f1, per_label, ...)")
    flag(
        e,
        "--held-out",
        "keep only sentences of documents the model did not train on (its validation and test documents)",
    )
    add_numerics_argument(e, default="fp32")


def _add_cv(sub: Any) -> None:
    c = add_command(sub, "cv", cmd_cv)
    _config_option(c)
    flag(
        c,
        "--pretrain-per-fold",
        "pretrain a scratch base with MLM in each fold on the unlabelled harvest without the fold's test documents",
    )
    c.add_argument("--pretrain-config", default=None, help="PretrainConfig YAML for --pretrain-per-fold")
    c.add_argument("--json-out", default=None, help="also write the results as JSON to this file")
    add_dataclass_arguments(c, TrainConfig)


def _add_compare(sub: Any) -> None:
    c = add_command(sub, "compare", cmd_compare)
    c.add_argument("--configs", nargs="+", required=True, metavar="YAML", help="candidate configs (one data file)")
    c.add_argument(
        "--cv-folds",
        type=int,
        default=None,
        help="folds grouped by locality; 0 leaves one document out (default: the first config's cv_folds, 5)",
    )
    c.add_argument(
        "--out", default="models/compare", help="folder for compare.json and compare.png (default: %(default)s)"
    )
    c.add_argument(
        "--resamples", type=int, default=1000, help="bootstrap resamples of test documents (default: %(default)s)"
    )
    c.add_argument("--bootstrap-seed", type=int, default=0, help="seed of the bootstrap (default: %(default)s)")
    c.add_argument(
        "--fresh",
        action="store_true",
        help="train every fold again instead of taking the folds an earlier run saved in OUT/folds "
        "(the same config, data and folds; needed after changing the code)",
    )


def _add_predict(sub: Any) -> None:
    r = add_command(sub, "predict", cmd_predict)
    _model_option(r)
    r.add_argument("input", metavar="INPUT", help="document or JSONL file")
    r.add_argument("--output", default=None, help="output JSONL (default: standard output)")
    r.add_argument("--batch-size", type=int, default=64, help="most sentences per forward pass (default: %(default)s)")
    r.add_argument(
        "--token-budget",
        type=int,
        default=None,
        help="most padded tokens (rows x longest row) per forward pass (default: 1024 for fp32 and int8, 2048 "
        "for bf16)",
    )
    add_numerics_argument(r, default="auto")
    flag(r, "--pretty", "print one readable line per sentence instead of JSONL")


def _register_guard(sub: Any) -> None:
    from policytag.training.numerics.names import NUMERICS

    g = add_command(sub, "guard", cmd_guard)
    g.add_argument("--model", required=True, help="BERT model folder")
    g.add_argument("--data", default=None, help="labelled JSONL (default: the gold set)")
    g.add_argument(
        "--numerics", nargs="+", choices=NUMERICS, default=list(NUMERICS), help="paths to compare (default: all)"
    )


def add_numerics_argument(parser: argparse.ArgumentParser, *, default: str) -> None:
    from policytag.training.numerics.names import NUMERICS_CHOICES

    numerics_option(
        parser,
        NUMERICS_CHOICES,
        default=default,
        help="inference numerics of a BERT model: fp32, bf16 (CPUs with AVX512-BF16/AMX, GPUs), int8 (CPU, "
        "dynamic quantization) or auto, the fastest path whose accuracy guard in the model folder holds "
        "(default: %(default)s)",
    )


def cmd_train(args: argparse.Namespace) -> int:
    """fine-tune a classifier and write a model folder

    Train a multi-label classifier (BERT through the transformers Trainer, or the TF-IDF baseline) and write a
    self-describing model folder. Values come from --config (default: training/configs/default.yaml) and are
    overridden by the flags below.
    """
    _setup_logging()
    from policytag.training.train import train

    cfg = config_from_args(TrainConfig, args)
    result = train(cfg)
    part = "test" if result.metrics.get("test") else "validation"
    m = result.metrics[part]
    print(f"wrote {result.folder}: {part} macro-F1 {m['macro_f1']:.3f}, micro-F1 {m['micro_f1']:.3f}")
    cv = result.metrics.get("grouped_cv")
    if cv is not None:
        low, high = cv["macro_f1_ci95"]
        print(
            f"  expected on reports of new places (grouped CV of this config, in the card): macro-F1 "
            f"{cv['macro_f1_mean']:.3f} ± {cv['macro_f1_std']:.3f}, pooled 95 % interval {low:.3f}–{high:.3f}"
        )
    elif part == "validation":
        print(f"  ({m['note']}: quote `policytag compare` or `policytag cv` for new reports)")
    return 0


def cmd_pretrain(args: argparse.Namespace) -> int:
    """masked-language-model pretraining of a scratch BERT on the unlabelled harvest (the domain base)

    Pretrain a scratch BERT with masked-language modelling on every sentence of the unlabelled harvest
    (seeds/unlabelled/pages.parquet, split with the kit's splitter) and write a safetensors base folder with a card
    (README.md) and its MLM loss curve (mlm_loss.png). `train --base-model OUTPUT_DIR` uses it, and
    `--base-model auto` uses models/base when no pretrained Chinese BERT is cached. --max-sentences N makes a quick
    check; `make pretrain` makes models/base from training/configs/pretrain.yaml.
    """
    _setup_logging()
    from policytag.training.pretrain import pretrain

    out = pretrain(config_from_args(PretrainConfig, args))
    print(f"wrote the domain base {out} (card: {out}/README.md); use it with: policytag train --base-model {out}")
    return 0


def _print_metrics(m: dict[str, Any]) -> None:
    print(f"{'label':<28}{'precision':>10}{'recall':>8}{'F1':>8}{'support':>9}")
    for label, v in m["per_label"].items():
        print(f"{label:<28}{v['precision']:>10.3f}{v['recall']:>8.3f}{v['f1']:>8.3f}{v['support']:>9}")
    print(
        f"\nmacro-F1 {m['macro_f1']:.3f} (over {len(m['labels_in_macro'])} labels present)   "
        f"micro-F1 {m['micro_f1']:.3f}   exact match {m['exact_match']:.3f}   sentences {m['n']}"
    )


def cmd_evaluate(args: argparse.Namespace) -> int:
    """metrics of a model on a labelled JSONL

    Evaluate a model folder on a labelled JSONL of {text, labels} (ids checked against the model's taxonomy).
    """
    from policytag.labels.dataset import read_labelled
    from policytag.training.predictor import load_predictor
    from policytag.training.train import evaluate_predictor

    predictor = load_predictor(args.model, numerics=args.numerics)
    records = read_labelled(args.data, predictor.taxonomy)
    if args.held_out:
        data = json.loads((Path(args.model) / "data.json").read_text(encoding="utf-8"))
        held_out = set(data["validation_docs"]) | set(data["test_docs"])
        records = [r for r in records if r["doc"] in held_out]
        if not records:
            raise ValueError(f"{args.data}: no sentences of the held-out documents {sorted(held_out)}")
        print(f"held-out documents: {', '.join(sorted(held_out))}", file=sys.stderr)
    m = evaluate_predictor(predictor, records)
    m["model"] = {"name": predictor.name, "version": predictor.version, "numerics": predictor.numerics_info["used"]}
    if args.json:
        print(json.dumps(m, ensure_ascii=False))
    else:
        _print_metrics(m)
    return 0


def cmd_cv(args: argparse.Namespace) -> int:
    """cross-validation grouped by locality (or leave one document out) of a config

    Train one model per fold, each fold holding out whole localities (--cv-folds, default 5; 0 holds out one
    document at a time), and report each fold and the mean ± std macro-F1: the figure to quote for reports of places
    the model has never seen. Exact and near-duplicates of a fold's test sentences are left out of its training side.
    """
    _setup_logging()
    from policytag.core.jsonl import atomic_write_text
    from policytag.training.config import load_config
    from policytag.training.cv import cross_validate

    cfg = config_from_args(TrainConfig, args)
    pre = load_config(PretrainConfig, args.pretrain_config) if args.pretrain_per_fold else None
    res = cross_validate(cfg, pretrain=pre)
    print(f"\n{res['grouping']} ({cfg.kind}, base {cfg.base_model}{', MLM-pretrained per fold' if pre else ''}):")
    for f in res["folds"]:
        print(
            f"  fold {f['fold']}  test {len(f['test_docs'])} documents, {f['test_localities']} localities  "
            f"n={f['n_test']:<4} macro-F1 {f['macro_f1']:.3f}  micro-F1 {f['micro_f1']:.3f}  "
            f"({f['dropped']['train'] + f['dropped']['validation']} duplicates of test sentences left out of training)"
        )
    print(
        f"macro-F1 {res['macro_f1_mean']:.3f} ± {res['macro_f1_std']:.3f}   "
        f"micro-F1 {res['micro_f1_mean']:.3f} ± {res['micro_f1_std']:.3f}   "
        f"(pooled over all test sentences: macro {res['pooled']['macro_f1']:.3f})"
    )
    if args.json_out:
        atomic_write_text(args.json_out, json.dumps(res, ensure_ascii=False, indent=2) + "\n")
        print(f"wrote {args.json_out}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """rank candidate configs by grouped cross-validation on the same folds

    Run every config of --configs through the same folds (by locality, from the first config's data and seed;
    --cv-folds 0 leaves one document out), with exact and near-duplicates of each fold's test sentences left out
    of its training side. Prints a ranked table (macro-F1 mean ± sd, 95 % bootstrap interval over test
    documents, micro-F1, other's precision/recall, seconds) and writes compare.json and compare.png into --out.
    Each finished fold is saved in OUT/folds: a comparison run again (interrupted, or with one more config)
    takes the folds it already has instead of training them again (--fresh trains them all).
    """
    _setup_logging()
    from policytag.core.taxonomy import load_taxonomy
    from policytag.training.compare import compare, format_table, load_candidates, write_comparison

    tax = load_taxonomy()
    candidates = load_candidates(args.configs, cv_folds=args.cv_folds)
    store = Path(args.out) / "folds"
    if args.fresh and store.exists():
        shutil.rmtree(store)
    result = compare(candidates, taxonomy=tax, resamples=args.resamples, seed=args.bootstrap_seed, store=store)
    print("\n" + format_table(result))
    for path in write_comparison(result, args.out, tax):
        print(f"wrote {path}")
    return 0


def cmd_guard(args: argparse.Namespace) -> int:
    """measure the accuracy guard of a BERT model's fast numerics and store it in the folder

    Compare each inference numerics path (bf16, int8) with fp32 on labelled sentences and write
    precision_guard.json into the model folder, which `--numerics auto` reads. `policytag train` does this for
    every BERT model; run it for a folder trained before the guard existed or to measure on other data.
    """
    _setup_logging()
    from policytag.core.paths import data_path, find_input
    from policytag.labels.dataset import read_labelled
    from policytag.training.model_folder import GUARD
    from policytag.training.numerics.guard import guard_subject, store_guard
    from policytag.training.predictor import load_predictor

    data = find_input(args.data) if args.data else data_path("gold")
    predictor = guard_subject(load_predictor(args.model, numerics="fp32", device="cpu"), where=args.model)
    guard = store_guard(
        args.model, predictor, read_labelled(data, predictor.taxonomy), numerics=args.numerics, data_path=str(data)
    )
    for name, r in guard["paths"].items():
        print(
            f"{name:<5} identical label sets {r['agreement']:.1%}  macro-F1 {r['macro_f1']:.3f} "
            f"({r['macro_f1_change'] * 100:+.2f} pt)  qualifies for auto: {'yes' if r['qualifies'] else 'no'}"
        )
    print(f"wrote {Path(args.model) / GUARD}")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    """tag a document or a JSONL of sentences

    INPUT is a document (.txt/.md/.html/.pdf/.docx, split with the kit's sentence splitter) or a JSONL of
    {text[, id]}; writes JSONL of {id, text, labels, scores} (with doc, index, start, end for documents).
    """
    from policytag.core.jsonl import DataError, iter_jsonl, write_jsonl
    from policytag.labels.corpus import sentence_records
    from policytag.labels.documents import DOCUMENT_SUFFIXES, read_document
    from policytag.training.predictor import load_predictor

    src = Path(args.input)
    rows: list[dict[str, Any]]
    if src.suffix.lower() == ".jsonl":
        rows = []
        for line, rec in iter_jsonl(src):
            if not isinstance(rec.get("text"), str) or not rec["text"].strip():
                raise DataError(src, line, "missing, not a string or empty", field="text")
            rows.append({"id": rec.get("id", f"{src.stem}:{line}"), "text": rec["text"]})
    elif src.suffix.lower() in DOCUMENT_SUFFIXES:
        rows = sentence_records(read_document(src))
    else:
        raise ValueError(f"{src}: expected a .jsonl file or a document ({', '.join(DOCUMENT_SUFFIXES)})")
    predictor = load_predictor(
        args.model, batch_size=args.batch_size, token_budget=args.token_budget, numerics=args.numerics
    )
    info = predictor.numerics_info
    print(f"numerics {info['requested']} -> {info['used']}: {info['reason']}", file=sys.stderr)
    preds = predictor.predict([r["text"] for r in rows])
    out = [
        {**r, "labels": p.labels, "scores": p.scores, **({"truncated": True} if p.truncated else {})}
        for r, p in zip(rows, preds, strict=True)
    ]
    if args.output:
        write_jsonl(args.output, out)
        print(f"wrote {len(out)} tagged sentences to {args.output}", file=sys.stderr)
    elif args.pretty:
        tax = predictor.taxonomy
        for row in out:
            names = "、".join(tax[label].zh for label in row["labels"])
            print(f"[{names}] {row['text']}")
        counts = Counter(label for row in out for label in row["labels"])
        print("\n" + "  ".join(f"{tax[k].zh} {v}" for k, v in counts.most_common()))
    else:
        for row in out:
            print(json.dumps(row, ensure_ascii=False))
    return 0
