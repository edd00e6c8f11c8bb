"""The paths module: the one table of the data layout, and where Label Studio's venv is."""

from __future__ import annotations

from pathlib import Path

import pytest

from policytag.core import paths
from policytag.labels.seeds import SeedsFolder


def test_every_layout_name_exists_in_the_checkout(root: Path) -> None:
    # Outputs of the Label Studio loop exist only once someone has pulled; everything else ships with the kit.
    made_by_pull = {"annotations", "consolidated", "conflicts"}
    missing = [name for name in paths.LAYOUT if name not in made_by_pull and not paths.data_path(name).exists()]
    assert missing == []
    assert paths.data_root() == root


def test_seeds_folder_follows_the_seeds_layout(tmp_path: Path) -> None:
    folder = SeedsFolder(tmp_path)
    assert folder.manifest == tmp_path / "manifest.jsonl"
    assert folder.unlabelled == tmp_path / "unlabelled" / "pages.parquet"
    assert paths.LAYOUT["manifest"] == f"seeds/{paths.SEEDS_LAYOUT['manifest']}"


def test_label_studio_venv_defaults_to_the_checkout_and_follows_the_variable(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(paths.LABEL_STUDIO_VENV_ENV, raising=False)
    assert paths.label_studio_venv() == root / ".venv-ls"
    monkeypatch.setenv(paths.LABEL_STUDIO_VENV_ENV, str(tmp_path / "ls"))
    assert paths.label_studio_venv() == tmp_path / "ls"


def test_a_data_root_without_a_taxonomy_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(paths.DATA_ENV, str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"labels/taxonomy\.yaml missing"):
        paths.data_root()
