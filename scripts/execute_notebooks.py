"""Re-execute notebooks and save them with their outputs, as CI compares them.

    make execute                               # every notebook
    make execute NB=notebooks/01_neurons.ipynb # one

Run this after editing a notebook, then `make test`: nbval re-runs each saved
notebook and compares its text outputs with the saved ones.
"""

import sys
from pathlib import Path

import nbformat
from notebook_runner import execute_notebook


def main(paths):
    if not paths:
        paths = sorted(str(p) for p in Path("notebooks").glob("*.ipynb"))
    for path in paths:
        nb, seconds, peak_mb = execute_notebook(path)
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        nbformat.write(nb, path)
        memory = f"{peak_mb:.0f} MB" if peak_mb else "n/a"
        print(f"executed and saved {path} ({seconds:.1f} s, peak {memory})")


if __name__ == "__main__":
    main(sys.argv[1:])
