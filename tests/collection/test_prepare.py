"""prepare_document: every format read, split with exact offsets, normalised for the model, described."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from policytag.collection import prepare
from policytag.collection.prepare import PreparedDocument, prepare_document
from policytag.labels.documents import DocumentError
from policytag.labels.documents.html import FALLBACK_WARNING
from tests.support.documents import SampleFile, bad, good, write_mixed_folder, write_traditional_txt


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SampleFile]:
    return write_mixed_folder(tmp_path_factory.mktemp("mixed"), nested=True)


def _check_offsets(doc: PreparedDocument) -> None:
    assert doc.sentences and len(doc.model_texts) == len(doc.sentences)
    for s in doc.sentences:
        assert doc.text[s.start : s.end] == s.text


@pytest.mark.parametrize(
    "name", ["report.txt", "notes.md", "page.html", "report.pdf", "report.docx", "traditional.txt"]
)
def test_every_good_file_is_prepared(mixed: dict[str, SampleFile], name: str) -> None:
    sample = good(mixed)[name]
    doc = prepare_document(sample.path)
    sha = hashlib.sha256(sample.path.read_bytes()).hexdigest()
    assert (doc.sha256, doc.doc_id, doc.source_path, doc.format) == (sha, sha[:16], str(sample.path), sample.format)
    assert (doc.province, doc.locality, doc.year) == (sample.province, sample.locality, sample.year)
    _check_offsets(doc)
    sentences = {s.text for s in doc.sentences}
    assert all(line in sentences or line in doc.text for line in sample.lines)
    assert doc.warnings == ()


def test_traditional_text_is_normalised_for_the_model_only(tmp_path: Path) -> None:
    sample = write_traditional_txt(tmp_path / "t.txt")
    doc = prepare_document(sample.path)
    _check_offsets(doc)
    assert doc.sentences[1].text == "全年辦理法律援助案件356件，為群眾挽回經濟損失120萬元。"
    assert doc.model_texts[1] == "全年办理法律援助案件356件，为群众挽回经济损失120万元。"
    assert doc.model_texts[0] == "广东省深圳市福田区2021年法治政府建设年度报告"
    raw = prepare_document(sample.path, normalize=False)
    assert raw.model_texts == tuple(s.text for s in raw.sentences)


@pytest.mark.parametrize("name", ["scanned.pdf", "blob.txt", "empty.txt"])
def test_bad_files_raise_naming_file_and_reason(mixed: dict[str, SampleFile], name: str) -> None:
    sample = bad(mixed)[name]
    assert sample.error is not None
    with pytest.raises(DocumentError) as caught:
        prepare_document(sample.path)
    assert str(caught.value).startswith(f"{sample.path}: ") and sample.error in str(caught.value)


def test_missing_file_and_no_sentences(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DocumentError, match="cannot read"):
        prepare_document(tmp_path / "nope.txt")
    (tmp_path / "a.txt").write_text("好。", encoding="utf-8")
    monkeypatch.setattr(prepare, "split_sentences", lambda text: [])
    with pytest.raises(DocumentError, match=r"a\.txt: no sentences"):
        prepare_document(tmp_path / "a.txt")


def test_identity_is_the_content_and_warnings_are_kept(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text("<p>法律援助。</p>", encoding="utf-8")
    (tmp_path / "b.html").write_text("<p>法律援助。</p>", encoding="utf-8")
    a, b = prepare_document(tmp_path / "a.html"), prepare_document(tmp_path / "b.html")
    assert a.doc_id == b.doc_id and a.source_path != b.source_path
    assert a.warnings == (FALLBACK_WARNING,)
    (tmp_path / "b.html").write_text("<p>法律援助。调解。</p>", encoding="utf-8")
    assert prepare_document(tmp_path / "b.html").doc_id != a.doc_id
