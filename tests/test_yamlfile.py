"""Errors from the course's YAML files name the file and the line."""
import pytest

from dlgrade.errors import SpecError
from dlgrade.yamlfile import load_yaml


def test_missing_and_malformed_files_name_file_and_line(tmp_path):
    """Does a missing file say what it is, and a syntax error say where?"""
    with pytest.raises(SpecError, match=r"rubric file not found"):
        load_yaml(tmp_path / "rubrics.yaml", what="rubric file")
    bad = tmp_path / "exercise.yaml"
    bad.write_text("title: ok\nprofiles:\n  quick: [unclosed\n")
    with pytest.raises(SpecError) as info:
        load_yaml(bad)
    assert str(bad) in str(info.value) and "line" in str(info.value)
