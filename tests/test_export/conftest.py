"""Shared by the export tests: Gradescope's documented results.json format, as a JSON schema."""
from __future__ import annotations

import pytest

_FORMATS = {"enum": ["text", "html", "simple_format", "md", "ansi"]}
_VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}

# https://gradescope-autograders.readthedocs.io/en/latest/specs/#output-format
GRADESCOPE_SCHEMA = {
    "type": "object",
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number"},
        "output": {"type": "string"},
        "output_format": _FORMATS,
        "test_output_format": _FORMATS,
        "test_name_format": _FORMATS,
        "visibility": _VISIBILITY,
        "stdout_visibility": _VISIBILITY,
        "extra_data": {"type": "object"},
        "tests": {"type": "array", "items": {
            "type": "object",
            "properties": {
                "score": {"type": "number"}, "max_score": {"type": "number"},
                "status": {"enum": ["passed", "failed"]}, "name": {"type": "string"},
                "name_format": _FORMATS, "number": {"type": "string"}, "output": {"type": "string"},
                "output_format": _FORMATS, "tags": {"type": "array", "items": {"type": "string"}},
                "visibility": _VISIBILITY, "extra_data": {"type": "object"},
            },
            "additionalProperties": False,
        }},
        "leaderboard": {"type": "array"},
    },
    "additionalProperties": False,
    "anyOf": [{"required": ["score"]}, {"required": ["tests"]}],
}


@pytest.fixture
def validate_gradescope():
    """``validate_gradescope(document)`` raises when the document breaks Gradescope's format."""
    jsonschema = pytest.importorskip("jsonschema")
    return lambda document: jsonschema.validate(document, GRADESCOPE_SCHEMA)
