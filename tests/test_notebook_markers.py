"""nbval's cell markers are only honoured when the comment is the marker alone."""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
MARKERS = ("NBVAL_IGNORE_OUTPUT", "NBVAL_CHECK_OUTPUT", "NBVAL_RAISES_EXCEPTION", "NBVAL_SKIP")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_nbval_markers_stand_alone(path):
    # nbval compares the whole comment: "# NBVAL_IGNORE_OUTPUT (why)" is silently ignored,
    # and the cell's varying output then fails on another machine or run.
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] != "code":
            continue
        for line in "".join(cell["source"]).splitlines():
            comment = line.strip().lstrip("#").strip()
            if line.strip().startswith("#") and comment.startswith(MARKERS):
                assert comment in MARKERS, f"{path.name}: {line.strip()!r} is not a bare marker"
