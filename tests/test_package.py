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
