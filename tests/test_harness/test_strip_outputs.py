"""Large notebooks are read without their outputs, before parsing."""
from __future__ import annotations

import json
import tracemalloc

import nbformat

from dlgrade.harness.notebook import read_notebook
from dlgrade.harness.strip_outputs import notebook_bytes, strip_outputs


def test_outputs_are_emptied_and_nothing_else_changes():
    """Are only ``"outputs": [...]`` values emptied, whatever brackets and quotes their strings hold,
    with sources that mention "outputs" left alone?"""
    tricky = ['a"]b', '[{\\', '}]"outputs": [']
    nb = {"cells": [{"cell_type": "code", "source": 'x = \'"outputs": [1]\'', "metadata": {},
                     "outputs": [{"output_type": "stream", "name": "stdout", "text": tricky}]},
                    {"cell_type": "markdown", "source": '"outputs": [2]', "metadata": {}}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    out = json.loads(strip_outputs(json.dumps(nb).encode()))
    assert out["cells"][0]["outputs"] == []
    nb["cells"][0]["outputs"] = []
    assert out == nb


def test_a_huge_output_does_not_reach_the_grader_memory(tmp_path):
    """Is a notebook with a 40 MB output read with a few MB of the grader's memory, as a valid notebook?"""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('x' * 40_000_000)")])
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * (40 << 20))]
    path = tmp_path / "big.ipynb"
    nbformat.write(nb, str(path))
    del nb
    tracemalloc.start()
    try:
        data = notebook_bytes(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20 and len(data) < 4096
    assert read_notebook(path).cells[0].outputs == []
