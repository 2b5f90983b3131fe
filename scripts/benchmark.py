"""Run every notebook in a fresh kernel and check it against the course's budgets.

    make bench

Prints one row per notebook: wall seconds (kernel start to last cell), the
kernel's peak resident memory, and whether both are within budget (60 s,
1.5 GB: what a 2-core laptop and Binder's 2 GB give). Exits 1 if any notebook
fails or misses a budget. Budgets are checked here, not in timed tests.
"""

import sys
from pathlib import Path

from notebook_runner import execute_notebook

MAX_SECONDS = 60.0
MAX_MEMORY_MB = 1536.0


def main(paths):
    paths = paths or sorted(str(p) for p in Path("notebooks").glob("*.ipynb"))
    rows, ok = [], True
    for path in paths:
        try:
            _, seconds, peak_mb = execute_notebook(path)
        except Exception as error:  # report and carry on with the others
            rows.append((Path(path).name, "-", "-", f"FAIL ({type(error).__name__})"))
            ok = False
            continue
        within = seconds <= MAX_SECONDS and (peak_mb is None or peak_mb <= MAX_MEMORY_MB)
        ok &= within
        memory = f"{peak_mb:.0f}" if peak_mb is not None else "n/a"
        rows.append((Path(path).name, f"{seconds:.1f}", memory, "pass" if within else "OVER"))

    header = ("notebook", "wall s", "peak MB", f"budget (<= {MAX_SECONDS:.0f} s, "
              f"<= {MAX_MEMORY_MB:.0f} MB)")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(4)]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
