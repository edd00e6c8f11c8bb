from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from policytag.core.jsonl import read_jsonl
from policytag.labels.corpus import build_corpus, sentence_id, sentence_records
from policytag.labels.documents import Document, DocumentError, read_document


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


def _folder_with_manifest(tmp_path: Path, texts: dict[str, str], truncated: set[str]) -> Path:
    from policytag.labels.manifest import ManifestRow, write_manifest

    rows = []
    for name, text in texts.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        rows.append(
            ManifestRow.from_text(
                file=name,
                text=text,
                url="",
                title="t",
                issuer="i",
                locality="某市",
                province="四川省",
                level="city",
                year=2022,
                doc_type="news",
                retrieved="2026-12-03",
                truncated=name in truncated,
                source="test",
            )
        )
    write_manifest(tmp_path / "manifest.jsonl", rows)
    return tmp_path


def test_cut_off_fragment_and_repeats_are_marked(tmp_path: Path) -> None:
    from policytag.labels.corpus import labellable

    folder = _folder_with_manifest(
        tmp_path,
        {
            "a.txt": "首页\n某区开展法律援助。全年办理案件12件。推进社区矫",
            "b.txt": "首頁\n某县推进社区矫正规范化建设。本页完",
            "c.txt": "首页\n某市召开会议。推进",
        },
        truncated={"a.txt", "b.txt"},
    )
    recs = {(r["doc"], r["text"]): r for r in build_corpus(folder)}
    assert recs[("a", "推进社区矫")]["fragment"] is True
    assert recs[("b", "本页完")]["fragment"] is True  # a truncated page's last piece without a full stop
    assert "fragment" not in recs[("c", "推进")]  # c is a whole document: its last sentence is labelled
    assert "fragment" not in recs[("a", "全年办理案件12件。")]
    # 首页 / 首頁 are one sentence: labelled once, with the count of its other copies.
    first = recs[("a", "首页")]
    assert first["copies"] == 2
    assert recs[("b", "首頁")]["duplicate_of"] == first["id"] == recs[("c", "首页")]["duplicate_of"]
    kept = {r["text"] for r in labellable(list(recs.values()))}
    assert kept == {
        "首页",
        "某区开展法律援助。",
        "全年办理案件12件。",
        "某县推进社区矫正规范化建设。",
        "某市召开会议。",
        "推进",
    }
