"""Fixtures of the gateway unit tests: the app with a DictClient instead of NATS."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from services.gateway.app import create_app
from shared.settings import Settings
from tests.unit.gateway_support import SECRET, DictClient


@pytest.fixture
def fake() -> DictClient:
    return DictClient()


@pytest.fixture
def http(fake: DictClient, tmp_path) -> TestClient:
    app = create_app(Settings(jwt_signing_key=SECRET, data_dir=tmp_path), "nats://unused", client=fake)
    with TestClient(app) as client:
        yield client
