"""The AsyncAPI document lists every subject the services answer, generated from the code."""
from __future__ import annotations

import json

from typer.testing import CliRunner

from services.cli import app
from services.launcher import SERVICE_NAMES, create_service


def test_asyncapi_lists_every_command_and_query_subject():
    result = CliRunner().invoke(app, ["asyncapi"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    addresses = {c["address"] for c in doc["channels"].values()}
    for name in SERVICE_NAMES:
        assert set(create_service(name).subjects) <= addresses
    assert "pb.*.cmd.ratings.record_score" in addresses
    assert doc["channels"]["ratings.cmd.record_score"]["description"].startswith("动态评星")
