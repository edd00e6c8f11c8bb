from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SHARED


@pytest.mark.skipif(not (SHARED / "seeds").is_dir(), reason="shared/seeds not beside the checkout")
def test_seeds_are_byte_copies_of_the_shared_reports(root: Path) -> None:
    shared = sorted(p.name for p in (SHARED / "seeds").glob("*.txt"))
    ours = sorted(p.name for p in (root / "seeds").glob("*.txt"))
    assert shared and shared == ours
    for name in shared:
        assert (root / "seeds" / name).read_bytes() == (SHARED / "seeds" / name).read_bytes()


def test_seeds_readme_describes_every_seed(root: Path) -> None:
    readme = (root / "seeds" / "README.md").read_text(encoding="utf-8")
    for p in (root / "seeds").glob("*.txt"):
        assert p.name in readme
