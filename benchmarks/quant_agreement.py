"""The accuracy guard of a model's fast inference numerics, as JSON.

For each numerics path (fp32, bf16, int8, and openvino-bf16 / openvino-int8 where the openvino extra
is installed), on the gold sentences: the share of sentences whose
label set is identical to fp32's, macro-F1 against the gold labels and its change from fp32, the
largest score difference, and whether the path qualifies for ``--numerics auto`` (agreement >= 99 %
and macro-F1 down by at most one point). The guard file itself is the product's:
``policytag train`` and ``policytag guard`` write it; ``--write`` here calls the same function
(:func:`policytag.training.numerics.guard.store_guard`).

    python -m benchmarks.quant_agreement --model models/demo
    python -m benchmarks.quant_agreement --model models/demo --data labels/gold.jsonl --write
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from policytag.core.deprecation import RenamedFlag
from policytag.core.paths import data_path
from policytag.training.numerics.names import NUMERICS


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--model", required=True, help="a BERT model folder written by `policytag train`")
    ap.add_argument("--data", default=str(data_path("gold")), help="labelled JSONL (default: %(default)s)")
    ap.add_argument(
        "--numerics", nargs="+", choices=NUMERICS, default=list(NUMERICS), help="paths to compare (default: all)"
    )
    ap.add_argument("--precisions", dest="numerics", nargs="+", choices=NUMERICS, action=RenamedFlag, new="--numerics")
    ap.add_argument(
        "--write", action="store_true", help="also store the result in the folder, as `policytag guard` does"
    )
    args = ap.parse_args(argv)

    from policytag.labels.dataset import read_labelled
    from policytag.training.model_folder import GUARD
    from policytag.training.numerics.guard import guard_subject, measure_guard, store_guard
    from policytag.training.predictor import load_predictor

    try:
        predictor = guard_subject(load_predictor(args.model, numerics="fp32", device="cpu"), where=args.model)
    except ValueError as e:
        raise SystemExit(str(e)) from None
    records = read_labelled(args.data, predictor.taxonomy)
    if args.write:
        guard = store_guard(args.model, predictor, records, numerics=args.numerics, data_path=args.data)
        print(f"wrote {Path(args.model) / GUARD}", file=sys.stderr)
    else:
        guard = measure_guard(predictor, records, numerics=args.numerics, data_path=args.data)
    summary = {
        name: {k: r[k] for k in ("agreement", "macro_f1", "macro_f1_change", "qualifies")}
        for name, r in guard["paths"].items()
    }
    print(json.dumps({"model": args.model, "summary": summary, **guard}, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
