"""Settings as the processes read them from the environment (pydantic-settings)."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.settings import Settings, nats_servers

CLUSTER = ["nats://nats-1:4222", "nats://nats-2:4222", "nats://nats-3:4222"]


def test_several_nats_urls_from_one_variable(monkeypatch):
    for value in ("nats://nats-1:4222,nats://nats-2:4222,nats://nats-3:4222",
                  "nats://nats-1:4222, nats://nats-2:4222  nats://nats-3:4222",
                  '["nats://nats-1:4222", "nats://nats-2:4222", "nats://nats-3:4222"]'):
        monkeypatch.setenv("DANGJIAN_NATS_URL", value)
        settings = Settings()
        assert settings.nats_url == CLUSTER
        assert settings.nats_address == ",".join(CLUSTER)


def test_one_url_and_unset(monkeypatch):
    monkeypatch.setenv("DANGJIAN_NATS_URL", "nats://127.0.0.1:4222")
    assert Settings().nats_url == ["nats://127.0.0.1:4222"]
    monkeypatch.setenv("DANGJIAN_NATS_URL", "")
    assert Settings().nats_url is None  # the embedded server
    monkeypatch.delenv("DANGJIAN_NATS_URL")
    assert Settings().nats_url is None and Settings().nats_address is None
    assert Settings(nats_url="tls://a:4222").nats_url == ["tls://a:4222"]  # a string in code, as the tests pass it


def test_a_malformed_url_names_it(monkeypatch):
    monkeypatch.setenv("DANGJIAN_NATS_URL", "nats://a:4222,nats-2:4222")
    with pytest.raises(ValidationError, match="nats-2:4222"):
        Settings()


def test_nats_servers_is_what_connections_get():
    assert nats_servers("nats://a:1,nats://b:2") == ["nats://a:1", "nats://b:2"]
    assert nats_servers(["nats://a:1"]) == ["nats://a:1"]
