"""`import nnlib` is quick and every public submodule exists."""

import importlib
import subprocess
import sys

import pytest

import nnlib


@pytest.mark.parametrize("name", [n for n in nnlib.__all__ if n != "__version__"])
def test_every_listed_submodule_imports(name):
    assert getattr(nnlib, name) is importlib.import_module(f"nnlib.{name}")


def test_import_nnlib_loads_no_heavy_packages():
    heavy = "{'torch', 'matplotlib', 'ipywidgets'}"
    code = f"import sys, nnlib; print(sorted({heavy} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_package_map_names_every_module():
    # nnlib/__init__.py's docstring is the map of the package: a new module must appear in it
    # (views/ and exercises/ are named as folders: one module per notebook topic)
    from pathlib import Path

    root = Path(nnlib.__file__).parent
    doc = nnlib.__doc__
    for path in sorted(root.glob("*.py")) + sorted(root.glob("*/*.py")):
        if path.name == "__init__.py":
            assert f"{path.parent.name}/" in doc or path.parent == root, path
        elif path.parent.name not in ("views", "exercises"):
            assert path.stem in doc, f"{path.relative_to(root)} is missing from the map"
