from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from policytag.training.train import TrainResult
from tests.support.serving import make_client


@pytest.fixture(scope="module")
def client(tiny_model: TrainResult) -> Iterator[TestClient]:
    with make_client(tiny_model.folder, max_sentences=64, max_body_bytes=200_000) as c:
        yield c
