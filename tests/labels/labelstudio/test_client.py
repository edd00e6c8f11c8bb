"""Connection settings of the Label Studio client, and the redaction of keys."""

from __future__ import annotations

import pytest

from policytag.labels.labelstudio.client import LabelStudioError, redact, resolve_connection


def test_connection_settings_and_redaction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    with pytest.raises(LabelStudioError, match="--url or LABEL_STUDIO_URL and --api-key") as e:
        resolve_connection(None, None)
    monkeypatch.setenv("LABEL_STUDIO_URL", "http://h:1/")
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "secret-key")
    assert resolve_connection(None, None) == ("http://h:1", "secret-key")
    assert resolve_connection("http://other", "k2") == ("http://other", "k2")
    assert "secret" not in str(e.value)
    assert redact("Token secret-key rejected", "secret-key") == "Token *** rejected"
