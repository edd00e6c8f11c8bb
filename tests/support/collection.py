"""Results folders for the collection tests, built directly from rows (no model, no documents on disk).

:func:`fabricated_documents` makes :class:`PreparedDocument` s with :class:`Prediction` s from short
sentences written here (several provinces, localities and years, some unknown, with trends a chart
can show: legal aid grows year by year, one city mediates a lot); :func:`write_results` writes any
such documents as a results folder the way a job does (tables only through ``schema.sentences_table`` and
``schema.documents_table``, shards ``part-<n>.parquet``, a manifest); :func:`fabricated_results` does
both. :func:`doc_specs` are the plain facts the tests compute their expectations from.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from policytag.collection.prepare import PreparedDocument
from policytag.collection.schema import documents_table, sentences_table, tagged_from_predictions
from policytag.core.splitter import split_sentences
from policytag.core.taxonomy import OTHER, Taxonomy
from policytag.training.predictor import Prediction

__all__ = ["DocSpec", "doc_specs", "fabricate", "fabricated_documents", "fabricated_results", "write_results"]

MODEL_VERSION = "fabricated-1"

# One short sentence per label, written for these tests; a number makes each sentence of a document unique.
_PHRASES = {
    "enforcement": "开展涉企行政执法检查",
    "mediation": "人民调解委员会化解矛盾纠纷",
    "legal_aid": "办理法律援助案件",
    "business_environment": "优化法治化营商环境",
    "reconsideration_litigation": "办理行政复议案件",
    "legislation": "开展规范性文件备案审查",
    "decision_making": "落实重大行政决策程序",
    "public_legal_services": "建设公共法律服务中心",
    "legal_publicity": "开展宪法宣传活动",
    "government_services": "推进政务服务一件事改革",
    "community_corrections": "加强社区矫正对象管理",
    "oversight_accountability": "开展法治督察",
    OTHER: "会议强调",
}

# (province, locality, year): two provinces with cities, one document of unknown province, unknown years.
_PLACES: tuple[tuple[str | None, str | None, int | None], ...] = (
    ("广东省", "广州市", 2021),
    ("广东省", "广州市", 2022),
    ("广东省", "深圳市", 2022),
    ("广东省", "深圳市", 2023),
    ("浙江省", "杭州市", 2021),
    ("浙江省", "杭州市", 2023),
    ("浙江省", "宁波市", 2022),
    ("浙江省", None, 2023),
    ("四川省", "成都市", 2021),
    ("四川省", "成都市", None),
    (None, "某县", 2022),
    (None, None, None),
)


@dataclass(frozen=True)
class DocSpec:
    """One fabricated document's facts: where, when, and the label set of each sentence."""

    province: str | None
    locality: str | None
    year: int | None
    labels: tuple[tuple[str, ...], ...]
    title: str | None = None


def _label_sets(
    rng: random.Random, taxonomy: Taxonomy, *, year: int | None, locality: str | None
) -> list[tuple[str, ...]]:
    """20-34 sentences: legal aid more likely in later years, mediation in Hangzhou, some with two labels."""
    categories = [i for i in taxonomy.ids if i != OTHER]
    weights = [1.0] * len(categories)
    weights[categories.index("legal_aid")] += 0.5 * ((year or 2021) - 2020)
    if locality == "杭州市":
        weights[categories.index("mediation")] += 4.0
    sets: list[tuple[str, ...]] = []
    for _ in range(rng.randint(20, 34)):
        if rng.random() < 0.25:
            sets.append((OTHER,))
            continue
        first, second = rng.choices(categories, weights=weights, k=2)
        sets.append(tuple(taxonomy.sort({first, second})) if rng.random() < 0.2 else (first,))
    return sets


def doc_specs(
    taxonomy: Taxonomy, *, seed: int = 17, places: Sequence[tuple[str | None, str | None, int | None]] = _PLACES
) -> list[DocSpec]:
    """The fabricated documents' facts, deterministic for a ``seed``."""
    rng = random.Random(seed)
    specs = []
    for n, (province, locality, year) in enumerate(places):
        title = f"{locality or province or '某地'}{year or ''}年法治政府建设年度报告（{n}）"
        sets = _label_sets(rng, taxonomy, year=year, locality=locality)
        specs.append(DocSpec(province, locality, year, tuple(sets), title))
    return specs


def fabricate(spec: DocSpec, taxonomy: Taxonomy, *, name: str) -> tuple[PreparedDocument, list[Prediction]]:
    """A :class:`PreparedDocument` whose sentences carry ``spec.labels``, and those predictions."""
    lines = [f"{_PHRASES.get(labels[0], '开展工作')}第{k + 1}项。" for k, labels in enumerate(spec.labels)]
    text = (spec.title or "") + "\n" + "\n".join(lines) + "\n"
    sentences = tuple(s for s in split_sentences(text) if s.text != spec.title)
    assert len(sentences) == len(spec.labels), "fabricated sentences must split one per line"
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    doc = PreparedDocument(
        doc_id=sha[:16],
        source_path=f"reports/{name}.txt",
        sha256=sha,
        format="txt",
        title=spec.title,
        text=text,
        sentences=sentences,
        model_texts=tuple(s.text for s in sentences),
        province=spec.province,
        locality=spec.locality,
        year=spec.year,
        warnings=(),
    )
    predictions = [
        Prediction(labels=list(labels), scores={i: (0.9 if i in labels else 0.05) for i in taxonomy.ids})
        for labels in spec.labels
    ]
    return doc, predictions


def fabricated_documents(
    taxonomy: Taxonomy, specs: Sequence[DocSpec] | None = None
) -> list[tuple[PreparedDocument, list[Prediction]]]:
    """The documents of ``specs`` (default :func:`doc_specs`) with their predictions."""
    return [fabricate(s, taxonomy, name=f"doc{n:03d}") for n, s in enumerate(specs or doc_specs(taxonomy))]


def write_results(
    folder: Path,
    documents: Sequence[tuple[PreparedDocument, Sequence[Prediction]]],
    taxonomy: Taxonomy,
    *,
    shard_documents: int = 5,
    model_version: str = MODEL_VERSION,
) -> Path:
    """Write ``documents`` as a results folder (sentences shard first, documents shard last, as a job does)."""
    for name in ("sentences", "documents"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    for part, start in enumerate(range(0, len(documents), shard_documents)):
        chunk = documents[start : start + shard_documents]
        tagged = tagged_from_predictions([d for d, _ in chunk], [p for _, ps in chunk for p in ps], taxonomy)
        shard = f"part-{part:05d}.parquet"
        sentences = sentences_table(tagged, model_version=model_version, taxonomy=taxonomy)
        pq.write_table(sentences, folder / "sentences" / shard)
        pq.write_table(documents_table(tagged, taxonomy), folder / "documents" / shard)
    manifest = {
        "format": 1,
        "model": {"name": "fabricated", "version": model_version, "kind": "none"},
        "taxonomy": list(taxonomy.ids),
        "taxonomy_definition": taxonomy.to_dict(),
        "engine": "fabricated",
        "counts": {"documents": len(documents), "sentences": sum(len(p) for _, p in documents)},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return folder


def fabricated_results(
    folder: Path, taxonomy: Taxonomy, specs: Sequence[DocSpec] | None = None, *, shard_documents: int = 5
) -> Path:
    """A results folder of the fabricated documents (default :func:`doc_specs`) in ``folder``."""
    documents = fabricated_documents(taxonomy, specs)
    return write_results(folder, documents, taxonomy, shard_documents=shard_documents)
