"""The registry of model kinds: names without imports, lookup by the manifest's kind, one module per kind."""

from __future__ import annotations

import subprocess
import sys

import pytest

from policytag.cli import main
from policytag.training.config import TrainConfig
from policytag.training.kind_names import kind_names
from policytag.training.kinds import FitResult, ModelKind, get_kind, register


def test_kinds_are_the_modules_of_the_kinds_package() -> None:
    assert kind_names() == ("bert", "distilled", "ensemble", "tfidf")
    assert [get_kind(name).name for name in kind_names()] == ["bert", "distilled", "ensemble", "tfidf"]


def test_an_unknown_kind_is_refused_with_the_kinds_listed() -> None:
    with pytest.raises(ValueError, match="kind must be one of 'bert', 'distilled', 'ensemble', 'tfidf', got 'svm'"):
        get_kind("svm")
    with pytest.raises(ValueError, match="kind must be one of 'bert', 'distilled', 'ensemble', 'tfidf', got 'svm'"):
        TrainConfig(kind="svm")


def test_listing_and_loading_tfidf_do_not_import_torch() -> None:
    code = (
        "import sys\n"
        "from policytag.training.kind_names import kind_names\n"
        "from policytag.training.kinds import get_kind\n"
        "kind_names(); get_kind('tfidf')\n"
        "print('torch' in sys.modules, 'policytag.training.kinds.bert' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_a_kind_must_live_in_the_module_of_its_name() -> None:
    class Elsewhere(ModelKind):
        name = "tfidf"

        def fit(self, *a: object, **k: object) -> FitResult:
            raise NotImplementedError

        def save(self, *a: object, **k: object) -> None:
            raise NotImplementedError

        def load(self, *a: object, **k: object) -> object:  # type: ignore[override]
            raise NotImplementedError

    with pytest.raises(ValueError, match=r"must be defined in policytag\.training\.kinds\.tfidf"):
        register(Elsewhere)


def test_train_help_lists_the_kinds(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "--kind {bert,distilled,ensemble,tfidf}" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["train", "--kind", "svm"])
    assert "invalid choice: 'svm'" in capsys.readouterr().err
