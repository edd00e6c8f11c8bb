"""The entry points: every format round-trips its Chinese text; bad files are refused naming file and reason."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from policytag.labels.documents import (
    DOCUMENT_SUFFIXES,
    TEXT_SUFFIXES,
    Document,
    DocumentError,
    decode_document,
    read_document,
)
from tests.support.documents import SampleFile, bad, good, write_mixed_folder
from tests.support.paths import ROOT


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SampleFile]:
    return write_mixed_folder(tmp_path_factory.mktemp("mixed"))


def test_unsupported_suffix_is_refused() -> None:
    with pytest.raises(DocumentError, match=r"report\.doc: unsupported file type \.doc"):
        decode_document(b"x", name="report.doc")
    assert (*TEXT_SUFFIXES, ".pdf", ".docx") == DOCUMENT_SUFFIXES


def test_read_document_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="cannot read"):
        read_document(tmp_path / "nope.txt")


def test_html_document_offsets_refer_to_extracted_text(tmp_path: Path) -> None:
    p = tmp_path / "d.html"
    p.write_text("<p>法律援助。</p><p>调解。</p>", encoding="utf-8")
    doc = read_document(p)
    assert doc.doc == "d"
    assert "<p>" not in doc.text and "法律援助。" in doc.text


@pytest.mark.parametrize(
    "name", ["report.txt", "notes.md", "page.html", "report.pdf", "report.docx", "traditional.txt"]
)
def test_every_format_round_trips_its_chinese_text(mixed: dict[str, SampleFile], name: str) -> None:
    sample = mixed[name]
    doc = read_document(sample.path)
    assert (doc.format, doc.doc, doc.path) == (sample.format, sample.path.stem, str(sample.path))
    missing = [line for line in sample.lines if line not in doc.text]
    assert not missing, f"{name}: lines not read back: {missing}"
    if sample.title is not None:
        assert doc.title is not None and doc.title.startswith(sample.title)
    assert doc.warnings == ()


def test_the_mixed_folder_has_every_kind(mixed: dict[str, SampleFile]) -> None:
    assert {f.format for f in good(mixed).values()} == {"txt", "md", "html", "pdf", "docx"}
    assert sorted(bad(mixed)) == ["blob.txt", "empty.txt", "scanned.pdf"]


@pytest.mark.parametrize("name", ["scanned.pdf", "blob.txt", "empty.txt"])
def test_bad_files_are_refused_naming_file_and_reason(mixed: dict[str, SampleFile], name: str) -> None:
    sample = mixed[name]
    assert sample.error is not None
    with pytest.raises(DocumentError) as caught:
        read_document(sample.path)
    assert str(caught.value).startswith(f"{sample.path}: ") and sample.error in str(caught.value)


def test_whitespace_only_text_is_no_text() -> None:
    with pytest.raises(DocumentError, match=r"w\.txt: no text"):
        decode_document(" \n\u3000\n".encode(), name="w.txt")


def test_existing_callers_build_documents_as_before() -> None:
    doc = Document(doc="d", text="好。", encoding="utf-8")
    assert (doc.path, doc.format, doc.title, doc.warnings) == (None, "txt", None, ())


def test_importing_the_package_stays_light() -> None:
    heavy = ("trafilatura", "pypdf", "docx", "charset_normalizer", "zhconv", "lxml")
    code = "import sys, policytag.labels.documents; print(sorted(m for m in sys.modules if m.split('.')[0] in %r))"
    out = subprocess.run(
        [sys.executable, "-c", code % (heavy,)], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
