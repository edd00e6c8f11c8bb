from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from policytag.cli import main


def test_help_lists_subcommands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "corpus" in out and "labels" in out


@pytest.mark.parametrize(
    "argv", [["corpus"], ["labels"], ["labels", "taxonomy"], ["labels", "stats"], ["labels", "gold"]]
)
def test_every_subcommand_has_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main([*argv, "--help"])
    assert e.value.code == 0
    assert "usage: policytag" in capsys.readouterr().out


def test_console_script_runs() -> None:
    exe = shutil.which("policytag", path=str(Path(sys.executable).parent))
    assert exe, "the policytag console script is not installed"
    out = subprocess.run([exe, "labels", "taxonomy", "--json"], capture_output=True, text=True, check=True).stdout
    assert [label["id"] for label in json.loads(out)["labels"]][-1] == "other"


def test_corpus_writes_sentences(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("一是调解；二是援助。\n", encoding="utf-8")
    (docs / "b.html").write_text("<p>复议。</p>", encoding="utf-8")
    (docs / "README.md").write_text("说明文件，不是报告。", encoding="utf-8")
    out = tmp_path / "s.jsonl"
    assert main(["corpus", str(docs), "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["text"] for r in rows] == ["一是调解；", "二是援助。", "复议。"]
    assert "wrote 3 sentences from 2 documents" in capsys.readouterr().out


def test_bad_input_gives_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"text": "好", "labels": ["other"]}\n{"text": "好", "labels": ["enforcement", "other"]}\n', encoding="utf-8"
    )
    assert main(["labels", "validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:2: field 'labels'" in err and "exclusive" in err
    assert main(["corpus", str(tmp_path / "missing")]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_stats_are_current_in_the_labels_readme(root: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "policytag", "labels", "stats", "--check"], cwd=root, capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr


def test_stats_check_fails_when_stale(root: Path, tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    from policytag.labels.stats import BEGIN, END

    readme.write_text(f"x\n{BEGIN}\nold numbers\n{END}\n", encoding="utf-8")
    args = ["labels", "stats", "--gold", str(root / "labels/gold.jsonl"), "--passes", str(root / "labels/passes")]
    assert main([*args, "--readme", str(readme), "--check"]) == 1
    assert main([*args, "--readme", str(readme), "--write"]) == 0
    assert main([*args, "--readme", str(readme), "--check"]) == 0
    assert "Cohen" in readme.read_text(encoding="utf-8")


def test_a_subcommand_help_is_its_handler_docstring(capsys: pytest.CaptureFixture[str]) -> None:
    from policytag.cli.labels import cmd_gold

    summary = (cmd_gold.__doc__ or "").splitlines()[0]
    with pytest.raises(SystemExit):
        main(["labels", "--help"])
    assert summary in " ".join(capsys.readouterr().out.split())  # the terminal's width wraps it anywhere


def test_labels_server_without_label_studio_names_the_installer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POLICYTAG_LABEL_STUDIO_VENV", str(tmp_path / "no-venv"))
    assert main(["labels", "server", "--data-dir", str(tmp_path / "data")]) == 2
    assert "make labelstudio-install" in capsys.readouterr().err
