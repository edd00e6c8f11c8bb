"""The two tables a collection job writes, and the one way both engines build their rows.

``sentences``: one row per sentence (document id, sentence index, ``[start, end)`` offsets into the
document's extracted text, the text, its labels, the score of every label, the model version).
``documents``: one row per document (id, source path, sha256, format, title, characters, sentences,
locality and year when the title or text names them, each label's share of sentences, extraction
warnings). The local engine and the Ray engine both tag with :func:`tag_documents` and build the tables
with :func:`sentences_table` and :func:`documents_table`, so their tables agree row for row;
:func:`canonical` orders a table the one way results are compared.

Scores and shares are structs with one field per label id of the model's taxonomy, so that a query
reads ``scores.legal_aid`` or ``label_share.mediation``.

Example:
    >>> from policytag.core.taxonomy import load_taxonomy
    >>> [f.name for f in sentences_schema(load_taxonomy())][:4]
    ['doc_id', 'sentence_index', 'start', 'end']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from policytag.collection.prepare import PreparedDocument
from policytag.core.taxonomy import Taxonomy
from policytag.training.predictor import Prediction, Predictor
from policytag.training.thresholds import decide

__all__ = ["Tagged", "canonical", "documents_schema", "documents_table", "sentences_schema", "sentences_table"]
__all__ += ["tag_documents", "tagged_from_predictions"]


def _per_label(taxonomy: Taxonomy) -> pa.DataType:
    return pa.struct([pa.field(i, pa.float32()) for i in taxonomy.ids])


def sentences_schema(taxonomy: Taxonomy) -> pa.Schema:
    """The ``sentences`` table's schema for a model with ``taxonomy``."""
    return pa.schema(
        [
            pa.field("doc_id", pa.string(), nullable=False),
            pa.field("sentence_index", pa.int32(), nullable=False),
            pa.field("start", pa.int64(), nullable=False),
            pa.field("end", pa.int64(), nullable=False),
            pa.field("text", pa.string(), nullable=False),
            pa.field("labels", pa.list_(pa.string()), nullable=False),
            pa.field("scores", _per_label(taxonomy), nullable=False),
            pa.field("model_version", pa.string(), nullable=False),
        ]
    )


def documents_schema(taxonomy: Taxonomy) -> pa.Schema:
    """The ``documents`` table's schema for a model with ``taxonomy``."""
    return pa.schema(
        [
            pa.field("doc_id", pa.string(), nullable=False),
            pa.field("source_path", pa.string(), nullable=False),
            pa.field("sha256", pa.string(), nullable=False),
            pa.field("format", pa.string(), nullable=False),
            pa.field("title", pa.string()),
            pa.field("characters", pa.int64(), nullable=False),
            pa.field("sentences", pa.int32(), nullable=False),
            pa.field("province", pa.string()),
            pa.field("locality", pa.string()),
            pa.field("year", pa.int16()),
            pa.field("label_share", _per_label(taxonomy), nullable=False),
            pa.field("warnings", pa.list_(pa.string()), nullable=False),
        ]
    )


@dataclass(frozen=True)
class Tagged:
    """Documents and the model's answer for their sentences, in document then sentence order.

    ``probs`` is sentences × labels (taxonomy order), ``labels`` the label set of each sentence.
    """

    docs: Sequence[PreparedDocument]
    probs: np.ndarray
    labels: list[list[str]]

    def __post_init__(self) -> None:
        n = sum(len(d.sentences) for d in self.docs)
        if self.probs.ndim != 2 or self.probs.shape[0] != n or len(self.labels) != n:
            raise ValueError(f"{n} sentences but scores of shape {self.probs.shape} and {len(self.labels)} label sets")


def tag_documents(predictor: Predictor, docs: Sequence[PreparedDocument], *, batch_sentences: int) -> Tagged:
    """Every sentence of ``docs`` through the model, ``batch_sentences`` at a time, with its thresholds applied.

    ``predict_proba`` and the decision rule, not ``predict``: a collection needs arrays, not a
    :class:`~policytag.training.predictor.Prediction` per sentence.
    """
    texts = [t for d in docs for t in d.model_texts]
    parts = [predictor.predict_proba(texts[i : i + batch_sentences])[0] for i in range(0, len(texts), batch_sentences)]
    probs = np.concatenate(parts) if parts else np.zeros((0, len(predictor.taxonomy)), dtype=np.float32)
    return Tagged(docs, probs, decide(probs, predictor.thresholds, predictor.taxonomy))


def tagged_from_predictions(
    docs: Sequence[PreparedDocument], predictions: Sequence[Prediction], taxonomy: Taxonomy
) -> Tagged:
    """:class:`Tagged` from ``Prediction`` objects (tests, fabricated results): the scores as they say."""
    probs = np.array([[p.scores[i] for i in taxonomy.ids] for p in predictions], dtype=np.float64)
    return Tagged(docs, probs.reshape(len(predictions), len(taxonomy)), [list(p.labels) for p in predictions])


def _struct_column(matrix: np.ndarray, taxonomy: Taxonomy) -> pa.StructArray:
    columns = [pa.array(matrix[:, j].astype(np.float32), type=pa.float32()) for j in range(len(taxonomy))]
    return pa.StructArray.from_arrays(columns, fields=list(_per_label(taxonomy)))


def sentences_table(tagged: Tagged, *, model_version: str, taxonomy: Taxonomy) -> pa.Table:
    """The ``sentences`` rows of ``tagged``, built column by column (no Python object per score)."""
    sentences = [(d.doc_id, i, s) for d in tagged.docs for i, s in enumerate(d.sentences)]
    columns = [
        pa.array([d for d, _, _ in sentences], pa.string()),
        pa.array([i for _, i, _ in sentences], pa.int32()),
        pa.array([s.start for _, _, s in sentences], pa.int64()),
        pa.array([s.end for _, _, s in sentences], pa.int64()),
        pa.array([s.text for _, _, s in sentences], pa.string()),
        pa.array(tagged.labels, pa.list_(pa.string())),
        _struct_column(tagged.probs, taxonomy),
        pa.array([model_version] * len(sentences), pa.string()),
    ]
    return pa.Table.from_arrays(columns, schema=sentences_schema(taxonomy))


def documents_table(tagged: Tagged, taxonomy: Taxonomy) -> pa.Table:
    """The ``documents`` rows of ``tagged``: each document's facts and the share of its sentences per label."""
    index = taxonomy.index
    hot = np.zeros((len(tagged.labels), len(taxonomy)), dtype=np.float64)
    for row, labels in enumerate(tagged.labels):
        hot[row, [index[label] for label in labels]] = 1.0
    shares, row = [], 0
    for d in tagged.docs:
        n = len(d.sentences)
        shares.append(hot[row : row + n].mean(axis=0) if n else np.zeros(len(taxonomy)))
        row += n
    rows = [
        {
            "doc_id": d.doc_id,
            "source_path": d.source_path,
            "sha256": d.sha256,
            "format": d.format,
            "title": d.title,
            "characters": len(d.text),
            "sentences": len(d.sentences),
            "province": d.province,
            "locality": d.locality,
            "year": d.year,
            "warnings": list(d.warnings),
        }
        for d in tagged.docs
    ]
    schema = documents_schema(taxonomy)
    at = schema.get_field_index("label_share")
    table = pa.Table.from_pylist(rows, schema=schema.remove(at))
    share = _struct_column(np.array(shares).reshape(len(shares), len(taxonomy)), taxonomy)
    return table.add_column(at, schema.field(at), share)


def canonical(table: pa.Table) -> pa.Table:
    """``table`` in the one order results are compared in: by document id, then sentence index if present."""
    keys = [("doc_id", "ascending")]
    if "sentence_index" in table.column_names:
        keys.append(("sentence_index", "ascending"))
    return table.sort_by(keys)
