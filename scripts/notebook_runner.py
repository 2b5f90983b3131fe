"""Execute a notebook in a fresh kernel the way CI does, and measure it.

Shared by ``execute_notebooks.py`` (re-execute and save, for contributors) and
``benchmark.py`` (time and peak memory against the course's budgets). The
kernel runs in the notebook's folder with this interpreter's environment, like
``pytest --nbval --nbval-current-env``.
"""

import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

# Same determinism settings as the Makefile, for runs that do not go through make.
os.environ.setdefault("PYTHONHASHSEED", "0")
os.environ.pop("MPLBACKEND", None)


def _peak_rss_mb(pid):
    """Peak resident memory of a process (Linux VmHWM), in MB; None elsewhere."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def execute_notebook(path, timeout=120):
    """Run every cell of ``path`` in a fresh kernel.

    Returns ``(notebook, wall_seconds, peak_kernel_mb)``; raises nbclient's
    ``CellExecutionError`` if a cell fails.
    """
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    peak = {"mb": None}
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
        store_widget_state=True,
    )

    def record_peak(**_):
        process = getattr(client.km.provisioner, "process", None)
        if process is not None:
            peak["mb"] = _peak_rss_mb(process.pid) or peak["mb"]

    client.on_cell_executed = record_peak
    start = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - start, peak["mb"]
