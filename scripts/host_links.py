"""Write every link to the course's online hosts from the one slug in nnlib/hosts.py.

    python scripts/host_links.py

For each notebook of nnlib.course.NOTEBOOKS it writes (or rewrites) two cells:

* the first cell, tagged ``host-links``: the "Open in Colab" and Binder badges;
* the first code cell, tagged ``colab-setup``: ``nnlib.hosts.colab_cell()``, which
  sets the course up in Colab and does nothing elsewhere.

In README.md it rewrites the Colab and Binder link definitions at the end of the file.
Run it after changing ``REPOSITORY`` or ``REF`` in nnlib/hosts.py; tests/test_hosts.py
fails until every copy agrees. Outputs and other cells are left as they are.
"""

import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nnlib.course import NOTEBOOKS  # noqa: E402
from nnlib.hosts import badges, binder_url, colab_cell, colab_url  # noqa: E402

BADGE_TAG = "host-links"
SETUP_TAG = "colab-setup"


def _tagged(nb, tag):
    return [i for i, cell in enumerate(nb.cells) if tag in cell.metadata.get("tags", [])]


def write_notebook_cells(path):
    """Put the badge cell first and the Colab cell before the first other code cell."""
    nb = nbformat.read(path, as_version=4)
    stem = path.stem
    before = nbformat.writes(nb)
    for tag in (BADGE_TAG, SETUP_TAG):  # drop the old copies, then insert fresh ones
        for i in reversed(_tagged(nb, tag)):
            del nb.cells[i]
    first_code = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), len(nb.cells))
    setup = nbformat.v4.new_code_cell(colab_cell(), metadata={"tags": [SETUP_TAG]})
    nb.cells.insert(first_code, setup)
    badge = nbformat.v4.new_markdown_cell(badges(stem), metadata={"tags": [BADGE_TAG]})
    nb.cells.insert(0, badge)
    # Keep the ids of the cells that were there, so a rerun changes nothing.
    old = nbformat.reads(before, as_version=4)
    for tag, cell in ((BADGE_TAG, badge), (SETUP_TAG, setup)):
        ids = [old.cells[i].get("id") for i in _tagged(old, tag)]
        if ids and ids[0]:
            cell["id"] = ids[0]
    if nbformat.writes(nb) != before:
        nbformat.write(nb, path)
        return True
    return False


def readme_links():
    """The link definitions README.md's course table uses, one Colab and one Binder each."""
    start = NOTEBOOKS[0].stem
    lines = [f"[binder]: {binder_url(start)}", f"[colab]: {colab_url(start)}"]
    for nb in NOTEBOOKS:
        number = nb.stem.split("_", 1)[0]
        lines.append(f"[colab-{number}]: {colab_url(nb.stem)}")
        lines.append(f"[binder-{number}]: {binder_url(nb.stem)}")
    return lines


LINK_DEFINITION = re.compile(r"^\[(binder|colab)(-\d+)?\]: .*$")


def write_readme(path=ROOT / "README.md"):
    """Replace the README's Colab and Binder link definitions (at its end) with fresh ones."""
    text = path.read_text()
    kept = [line for line in text.rstrip("\n").split("\n") if not LINK_DEFINITION.match(line)]
    while kept and not kept[-1].strip():
        kept.pop()
    new = "\n".join(kept + [""] + readme_links()) + "\n"
    if new != text:
        path.write_text(new)
        return True
    return False


if __name__ == "__main__":
    changed = [nb.stem for nb in NOTEBOOKS
               if write_notebook_cells(ROOT / "notebooks" / f"{nb.stem}.ipynb")]
    if write_readme():
        changed.append("README.md")
    print("rewrote: " + (", ".join(changed) if changed else "nothing (all up to date)"))
