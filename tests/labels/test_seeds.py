from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from policytag.labels.corpus import build_corpus, document_paths
from policytag.labels.manifest import ORIGINAL_SOURCE, read_manifest
from policytag.labels.seeds import SeedsFolder, render_readme
from policytag.labels.unlabelled import read_unlabelled_rows
from tests.support.paths import SHARED


@pytest.mark.skipif(not (SHARED / "seeds").is_dir(), reason="shared/seeds not beside the checkout")
def test_the_original_seeds_are_byte_copies_of_the_shared_reports(root: Path) -> None:
    shared = sorted(p.name for p in (SHARED / "seeds").glob("*.txt"))
    assert shared and set(shared) <= {p.name for p in (root / "seeds").glob("*.txt")}
    for name in shared:
        assert (root / "seeds" / name).read_bytes() == (SHARED / "seeds" / name).read_bytes()
    sources = {r.file: r.source for r in read_manifest(root / "seeds" / "manifest.jsonl")}
    assert {f for f, s in sources.items() if s == ORIGINAL_SOURCE} == set(shared)


def test_every_document_has_a_manifest_row_and_the_reverse(root: Path) -> None:
    rows = read_manifest(root / "seeds" / "manifest.jsonl")
    assert sorted(r.file for r in rows) == sorted(p.name for p in document_paths(root / "seeds"))
    for line, row in enumerate(rows, start=1):
        row.check_file(root / "seeds", line=line)


def test_the_seeds_readme_is_generated_from_the_manifest(root: Path) -> None:
    folder = SeedsFolder(root / "seeds")
    per_doc = Counter(r["doc"] for r in build_corpus(folder.root))
    expected = render_readme(read_manifest(folder.manifest), per_doc, read_unlabelled_rows(folder.unlabelled))
    assert (root / "seeds" / "README.md").read_text(encoding="utf-8") == expected
