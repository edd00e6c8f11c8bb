"""The accuracy guard of a model's fast inference paths, as JSON.

For each precision (fp32, bf16, int8), on the gold sentences: the share of sentences whose label
set is identical to fp32's, macro-F1 against the gold labels and its change from fp32, the largest
score difference, and whether the path qualifies for ``--precision auto`` (agreement >= 99 % and
macro-F1 down by at most one point). ``policytag train`` stores the same measurement in the model
folder; ``--write`` stores this one (for a folder trained before the guard existed, or to measure
on other data).

    python benchmarks/quant_agreement.py --model models/demo
    python benchmarks/quant_agreement.py --model models/demo --data labels/gold.jsonl --write
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from policytag.training.precision_names import PRECISIONS

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--model", required=True, help="a BERT model folder written by `policytag train`")
    ap.add_argument("--data", default=str(ROOT / "labels" / "gold.jsonl"), help="labelled JSONL (default: %(default)s)")
    ap.add_argument(
        "--precisions", nargs="+", choices=PRECISIONS, default=list(PRECISIONS), help="paths to compare (default: all)"
    )
    ap.add_argument("--write", action="store_true", help="also store the result as the folder's precision_guard.json")
    args = ap.parse_args(argv)

    from policytag.labels.dataset import read_labelled
    from policytag.training.bert_predictor import BertPredictor
    from policytag.training.precision_guard import measure_guard, write_guard
    from policytag.training.predictor import load_predictor

    predictor = load_predictor(args.model, precision="fp32", device="cpu")
    if not isinstance(predictor, BertPredictor):
        raise SystemExit(f"{args.model}: not a BERT model; precision does not apply to it")
    records = read_labelled(args.data, predictor.taxonomy)
    guard = measure_guard(predictor, records, precisions=args.precisions, data_path=args.data)
    if args.write:
        print(f"wrote {write_guard(args.model, guard)}", file=sys.stderr)
    summary = {
        name: {k: r[k] for k in ("agreement", "macro_f1", "macro_f1_change", "qualifies")}
        for name, r in guard["paths"].items()
    }
    print(json.dumps({"model": args.model, "summary": summary, **guard}, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
