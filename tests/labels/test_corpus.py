from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from labels.corpus import build_corpus, sentence_id, sentence_records
from labels.documents import Document, DocumentError, read_document
from labels.jsonl import read_jsonl


def test_record_shape_and_ids() -> None:
    recs = sentence_records(Document(doc="d", text="好。\n坏。好。", encoding="utf-8"))
    h = hashlib.sha1("好。".encode()).hexdigest()[:10]
    assert [r["id"] for r in recs] == [f"d:{h}", sentence_id("d", "坏。"), f"d:{h}-2"]
    assert [r["index"] for r in recs] == [0, 1, 2]
    assert set(recs[0]) == {"id", "doc", "index", "start", "end", "text"}


def test_id_survives_resplitting_elsewhere() -> None:
    a = sentence_records(Document(doc="d", text="甲。乙。", encoding="utf-8"))
    b = sentence_records(Document(doc="d", text="新加一句。甲。乙。", encoding="utf-8"))
    assert {r["id"] for r in a} <= {r["id"] for r in b}


def test_seed_corpus_has_exact_offsets(root: Path) -> None:
    records = build_corpus(root / "seeds")
    assert len(records) >= 400
    texts = {p.stem: read_document(p).text for p in (root / "seeds").glob("*.txt")}
    for r in records:
        assert texts[r["doc"]][r["start"] : r["end"]] == r["text"]
    assert len({r["id"] for r in records}) == len(records)


def test_committed_sentences_match_the_seeds(root: Path) -> None:
    assert read_jsonl(root / "labels" / "sentences.jsonl") == build_corpus(root / "seeds")


def test_empty_folder_and_clashing_stems(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="no documents"):
        build_corpus(tmp_path)
    (tmp_path / "a.txt").write_text("甲。", encoding="utf-8")
    (tmp_path / "a.html").write_text("<p>乙。</p>", encoding="utf-8")
    with pytest.raises(DocumentError, match="same document name"):
        build_corpus(tmp_path)
