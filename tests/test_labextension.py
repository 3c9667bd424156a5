"""Checks that keep the lab extension's sources in step with the Python side (no build needed)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from jupyter_automl.report import MIME_TYPE, PAYLOAD_VERSION
from jupyter_automl.server.handlers import schema_for_editor

LABEXT = Path(__file__).resolve().parent.parent / "labextension"


def test_jest_schema_fixture_is_the_served_schema() -> None:
    """labextension/tests/schema.json (used by the Jest tests) is what the server serves."""
    fixture = json.loads((LABEXT / "tests" / "schema.json").read_text())
    assert fixture == json.loads(json.dumps(schema_for_editor())), (
        "regenerate it: python -c 'import json; from jupyter_automl.server.handlers import schema_for_editor; "
        "json.dump(schema_for_editor(), open(\"labextension/tests/schema.json\", \"w\"), indent=1)'")


def test_mime_type_and_version_match_tokens_ts() -> None:
    tokens = (LABEXT / "src" / "tokens.ts").read_text()
    assert f"RESULT_MIME_TYPE = '{MIME_TYPE}'" in tokens
    major = int(PAYLOAD_VERSION.split(".")[0])
    assert re.search(rf"SUPPORTED_MAJOR = {major};", tokens)
