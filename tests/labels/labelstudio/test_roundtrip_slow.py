"""The 1,000-sentence round trip of benchmarks/labelstudio_roundtrip.py against a real Label Studio (slow)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.labelstudio_roundtrip import run
from tests.support.labelstudio import require_label_studio


@pytest.mark.slow
def test_thousand_sentences_pushed_twice_pulled_twice(tmp_path: Path) -> None:
    require_label_studio("the 1,000-sentence round trip")
    result = run(1000, 200, work=tmp_path)
    print(json.dumps(result, indent=2))
    assert result["tasks_final"] == 1000 and result["push_2_created"] == 0
    assert result["annotations_lost"] == 0 and result["log_lines_after_pull_2"] == 200
    assert result["ok"], result
