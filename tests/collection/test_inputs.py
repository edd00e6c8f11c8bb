"""Expanding INPUT...: folders recursively, globs, explicit files, order, duplicates, missing paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from policytag.collection.inputs import expand_inputs, file_sha256, is_supported


def _touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name, encoding="utf-8")


def test_folder_is_recursive_keeps_supported_suffixes_and_skips_hidden(tmp_path: Path) -> None:
    _touch(tmp_path, "b.txt", "a.MD", "x/c.html", "x/d.htm", "x/y/e.pdf", "f.docx", "g.xlsx", ".h.txt", ".git/i.txt")
    files = expand_inputs([tmp_path])
    assert [f.path.relative_to(tmp_path).as_posix() for f in files] == [
        "a.MD",
        "b.txt",
        "f.docx",
        "x/c.html",
        "x/d.htm",
        "x/y/e.pdf",
    ]
    assert files[3].source_path == str(tmp_path / "x" / "c.html")


def test_source_path_is_the_path_as_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _touch(tmp_path, "reports/2021/a.txt")
    monkeypatch.chdir(tmp_path)
    assert [f.source_path for f in expand_inputs(["reports"])] == [str(Path("reports/2021/a.txt"))]


def test_explicit_unsupported_file_is_kept_for_the_job_to_report(tmp_path: Path) -> None:
    _touch(tmp_path, "table.xlsx")
    files = expand_inputs([tmp_path / "table.xlsx"])
    assert [f.path.name for f in files] == ["table.xlsx"]
    assert not is_supported(files[0].path)


def test_glob_gives_supported_files_and_folders_it_matches(tmp_path: Path) -> None:
    _touch(tmp_path, "a/1.txt", "a/2.xlsx", "b/3.html", "b/sub/4.pdf", "c.txt")
    names = [f.path.name for f in expand_inputs([str(tmp_path / "a" / "*"), str(tmp_path / "b")])]
    assert names == ["1.txt", "3.html", "4.pdf"]
    assert [f.path.name for f in expand_inputs([str(tmp_path / "**" / "*.pdf")])] == ["4.pdf"]


def test_each_file_once_sorted(tmp_path: Path) -> None:
    _touch(tmp_path, "z.txt", "m.txt")
    files = expand_inputs([tmp_path / "z.txt", tmp_path, str(tmp_path / "*.txt")])
    assert [f.path.name for f in files] == ["m.txt", "z.txt"]
    assert len({f.path.resolve() for f in files}) == 2


@pytest.mark.parametrize("name", ["missing.txt", "missing_dir", "nothing_*.txt"])
def test_a_path_that_names_nothing_is_an_error_naming_it(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match=name.replace("*", r"\*")):
        expand_inputs([tmp_path / name])


def test_no_input_is_an_error() -> None:
    with pytest.raises(ValueError, match="no input"):
        expand_inputs([])


def test_sha256_of_the_bytes(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"abc")
    assert file_sha256(tmp_path / "a.txt", chunk=2).startswith("ba7816bf8f01cfea")
