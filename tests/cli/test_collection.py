"""``policytag tag``: help, summary, exit statuses, and a job killed part-way then resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from policytag.cli import main
from policytag.collection import store
from policytag.training.train import TrainResult
from tests.support.documents import write_binary, write_txt
from tests.support.paths import ROOT


def test_help_explains_with_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["tag", "--help"])
    out = capsys.readouterr().out
    assert e.value.code == 0
    for text in ("INPUT", "--model", "--out", "--engine", "--strict", "--shard-documents", "example:", "errors.jsonl"):
        assert text in out


def test_a_bad_file_fails_the_job_only_with_strict(
    tmp_path: Path, tfidf_model: TrainResult, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "in").mkdir()
    write_txt(tmp_path / "in" / "good.txt")
    write_binary(tmp_path / "in" / "blob.txt")
    argv = ["tag", str(tmp_path / "in"), "--model", str(tfidf_model.folder), "--out", str(tmp_path / "out")]
    assert main([*argv, "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "tagged 1 documents" in out and "1 failed" in out and "blob.txt: binary file" in out
    assert main([*argv, "--workers", "1", "--strict"]) == 1  # the bad file is tried again, and fails again
    assert "tagged 0 documents" in capsys.readouterr().out
    errors = [json.loads(line) for line in (tmp_path / "out" / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [Path(e["path"]).name for e in errors] == ["blob.txt"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--workers", "0"], "positive"), (["--ray-address", "ray://x:1"], "--engine ray")],
)
def test_bad_arguments(tmp_path: Path, extra: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["tag", str(tmp_path), "--model", "m", "--out", str(tmp_path / "out"), *extra]
    try:
        status = main(argv)
    except SystemExit as e:  # argparse's own refusal
        status = int(e.code or 0)
    assert status == 2 and message in capsys.readouterr().err


def test_a_missing_input_is_named(tmp_path: Path, tfidf_model: TrainResult, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere"
    assert main(["tag", str(missing), "--model", str(tfidf_model.folder), "--out", str(tmp_path / "out")]) == 2
    assert f"{missing}: no such file or folder" in capsys.readouterr().err


def _tag_command(inputs: Path, model: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "policytag", "tag", str(inputs), "--model", str(model), "--out", str(out)]


def test_a_killed_job_resumes_to_the_tables_of_an_uninterrupted_one(tmp_path: Path, tfidf_model: TrainResult) -> None:
    n = 150
    (tmp_path / "in").mkdir()
    for i in range(n):  # many small documents, one shard each: slow enough to kill part-way
        write_txt(tmp_path / "in" / f"r{i:03d}.txt", seed=i)
    killed = tmp_path / "killed"
    command = _tag_command(tmp_path / "in", tfidf_model.folder, killed)
    command += ["--shard-documents", "1", "--batch-sentences", "1", "--workers", "1"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 120
    while len(list((killed / "documents").glob("part-*.parquet"))) < 5 and proc.poll() is None:
        assert time.monotonic() < deadline, "the job wrote no 5 shards in 120 s"
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)  # the job and its reading workers
    proc.wait()
    partial = store.counts(killed)[0]
    assert 5 <= partial < n, "the job was not killed part-way"

    assert main(["tag", str(tmp_path / "in"), "--model", str(tfidf_model.folder), "--out", str(killed)]) == 0
    whole = tmp_path / "whole"
    assert main(["tag", str(tmp_path / "in"), "--model", str(tfidf_model.folder), "--out", str(whole)]) == 0
    resumed, uninterrupted = store.read_tables(killed), store.read_tables(whole)
    assert uninterrupted[1].num_rows == n
    assert resumed[0].equals(uninterrupted[0]) and resumed[1].equals(uninterrupted[1])
    assert json.loads((killed / "manifest.json").read_text(encoding="utf-8"))["run"]["already_done"] == partial
