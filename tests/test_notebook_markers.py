"""nbval's cell markers are only honoured when the comment is the marker alone."""

import json
import re
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


# A difference, error or spread printed as 4.4e-16 (or 3e-09) is round-off or a
# float-sensitive figure: on another CPU, BLAS or version its digits change. A compared
# cell prints the bound it asserts instead ("agrees with torch to better than 1e-12").
# Small quantities that are not round-off (a vanished gradient, 4.9e-17) are fine.
ROUNDOFF = re.compile(r"(?<!than )(?<!below )(?<!within )(?<!to )(?<!under )"
                      r"\b[1-9](\.\d+)?e-(0?[7-9]|[1-9]\d)\b")
ABOUT_ROUNDOFF = ("difference", "error", "spread", "differ")


def roundoff_printed(text):
    """The first round-off figure in a line about a difference or an error, or None."""
    for line in text.splitlines():
        hit = ROUNDOFF.search(line)
        if hit and any(word in line for word in ABOUT_ROUNDOFF):
            return hit.group(0)
    return None


def compared_cells(path):
    for index, cell in enumerate(c for c in json.loads(path.read_text())["cells"]
                                 if c["cell_type"] == "code"):
        source = "".join(cell["source"])
        if not source.lstrip().startswith(("# NBVAL_IGNORE_OUTPUT", "# NBVAL_SKIP")):
            yield index, cell.get("outputs", [])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_compared_cells_print_no_roundoff_digits(path):
    for index, outputs in compared_cells(path):
        text = "".join("".join(o.get("text", "")) for o in outputs if o["output_type"] == "stream")
        hit = roundoff_printed(text)
        assert hit is None, (f"{path.name}, code cell {index} prints {hit}: print the bound it is "
                             "asserted against, or mark it NBVAL_IGNORE_OUTPUT and assert there")


def test_the_roundoff_check_catches_digits_and_passes_bounds():
    assert roundoff_printed("largest difference from torch 4.4e-16") == "4.4e-16"
    assert roundoff_printed("relative error 3.1e-09 over 1210 gradients") == "3.1e-09"
    assert roundoff_printed("every t (spread 1e-14)") == "1e-14"
    for fine in ("agrees with torch to better than 1e-12", "relative error below 1e-7",
                 "largest difference 0.0e+00", "gradient reaching step 0: 4.9e-17"):
        assert roundoff_printed(fine) is None, fine


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_ignored_output_asserts_its_claim(path):
    # A trained result may keep its digits in view only in an ignored cell that asserts the
    # claim; an ignored cell without an assert statement would check nothing on any machine.
    # (The word "assert" in a comment is not enough.) What legitimately varies without a
    # claim: versions and times; and a table of results whose claims earlier cells assert.
    allowed = ("version", "time", "timing", "environment", "asserted above")
    for index, cell in enumerate(c for c in json.loads(path.read_text())["cells"]
                                 if c["cell_type"] == "code"):
        source = "".join(cell["source"])
        if (source.lstrip().startswith("# NBVAL_IGNORE_OUTPUT")
                and not re.search(r"^\s*assert\b", source, re.MULTILINE)):
            reason = source.splitlines()[1].lower() if len(source.splitlines()) > 1 else ""
            assert any(word in reason for word in allowed), (
                f"{path.name}, code cell {index} ignores its output but asserts nothing")
