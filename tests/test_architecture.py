"""The package's architecture, read from its imports (every import, function-level included).

The rules (``../shared/STYLE.md``, "The layout, as one picture"):

1. The numpy reference code (every top-level module of ``nnlib`` but the grader
   ``nnlib.grade``, which runs notebooks; ``nnlib.data`` and ``nnlib.exercises``) imports
   only the standard library, numpy and itself: no torch,
   matplotlib, ipywidgets or anything else, and none of ``nnlib.models``, ``nnlib.display``
   or ``nnlib.views`` (however it is written: ``from nnlib import views`` counts, and so
   does ``importlib.import_module("torch")``). A learner reads it with numpy alone, and
   ``import nnlib`` stays quick.
   One exception, named in ``TORCH_STEP_CHECKERS``: the checker of the torch training-step
   exercises (a GAN step, a language model's step) builds small torch networks, so it may
   import torch, inside a function only, so that importing it still loads no torch.
2. A view (``nnlib.views``) imports no torch: it calls the models and draws.
3. No import cycle inside ``nnlib``.
4. No private name (``_x``) is imported from another module.

Each rule is also run on a small planted package that breaks it, to show that it can fail.
"""

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "nnlib"
ALLOWED_FOR_MATH = set(sys.stdlib_module_names) | {"numpy"}
NOT_FOR_MATH = ("models", "display", "views", "grade")  # grade runs notebooks with nbclient
DYNAMIC = ("import_module", "__import__")
# modules (below the package) that may import torch inside a function, and only there
TORCH_STEP_CHECKERS = ("exercises.gan",)


def module_name(path, root):
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(root):
    """``{module: [(imported module, [names], line)]}`` for every .py file under ``root``."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        name = module_name(path, root)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = []
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                edges += [(alias.name, [], node.lineno) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: from . import x, from ..a import b
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module
                edges.append((target, [alias.name for alias in node.names], node.lineno))
            elif (isinstance(node, ast.Call) and node.args
                  and getattr(node.func, "attr", getattr(node.func, "id", None)) in DYNAMIC
                  and isinstance(node.args[0], ast.Constant)
                  and isinstance(node.args[0].value, str)):  # import_module("torch")
                edges.append((node.args[0].value, [], node.lineno))
        found[name] = edges
    return found


def function_level_lines(path):
    """The line numbers of the imports inside a function of the file ``path``."""
    lines = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines |= {n.lineno for n in ast.walk(node)
                      if isinstance(n, ast.Import | ast.ImportFrom)}
    return lines


def resolve(target, names, modules):
    """The nnlib modules an import loads: ``from nnlib.data import toy`` loads nnlib.data.toy."""
    loaded = {target} if target in modules else set()
    loaded |= {f"{target}.{n}" for n in names if f"{target}.{n}" in modules}
    return loaded


def is_math(module):
    parts = module.split(".")
    return len(parts) == 1 or parts[1] not in NOT_FOR_MATH


def violations(root):
    """Every broken rule in the package at ``root``, as readable lines."""
    graph, found = imports(root), []
    modules, top = set(graph), root.name
    for module, edges in graph.items():
        math_module = is_math(module)
        torch_inside = set()
        if module.split(".", 1)[-1] in TORCH_STEP_CHECKERS:
            path = root.parent.joinpath(*module.split(".")).with_suffix(".py")
            torch_inside = function_level_lines(path)
        view = module.startswith(f"{top}.views")
        for target, names, line in edges:
            head = target.split(".")[0]
            where = f"{module} (line {line})"
            if head == "torch" and line in torch_inside:
                continue  # a torch-step checker, importing torch where it builds its networks
            if math_module and head not in ALLOWED_FOR_MATH | {top}:
                found.append(f"rule 1: the numpy module {where} imports {target}")
            loaded = resolve(target, names, modules) | ({target} if head == top else set())
            for t in sorted(loaded):
                if math_module and not is_math(t):
                    found.append(f"rule 1: the numpy module {where} imports {t}")
            if view and head == "torch":
                found.append(f"rule 2: the view {where} imports {target}")
            if head == top:
                private = [n for n in names if n.startswith("_") and not n.startswith("__")]
                if private and target != module:
                    found.append(f"rule 4: {where} imports the private {', '.join(private)} "
                                 f"from {target}")
    found += [f"rule 3: import cycle {' -> '.join(cycle)}" for cycle in cycles(graph, modules)]
    return found


def cycles(graph, modules):
    """One cycle per strongly connected group of modules (Tarjan), as a module path."""
    edges = {m: sorted(set().union(*[resolve(t, n, modules) for t, n, _ in graph[m]]) - {m})
             for m in graph}
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    found = []
    for group in groups:  # a path around the cycle, for the message
        members, path = set(group), [min(group)]
        while True:
            step = next(w for w in edges[path[-1]] if w in members)
            if step in path:
                found.append(path[path.index(step):] + [step])
                break
            path.append(step)
    return found


def test_the_package_keeps_every_rule():
    assert violations(PACKAGE) == []


def test_the_reader_sees_every_module():
    graph = imports(PACKAGE)
    assert {"nnlib.layers", "nnlib.models.training", "nnlib.views.rnn",
            "nnlib.display.widgets", "nnlib.data.toy"} <= set(graph)
    # function-level imports count: small_char_model trains with the torch recurrent models
    assert any(t == "nnlib.models.recurrent" for t, _, _ in graph["nnlib.views.rnn"])


# --------------------------------------------------------------------------- planted


def plant(tmp_path, files):
    root = tmp_path / "pkg"
    for name, source in {"__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    for folder in {p.parent for p in root.rglob("*.py")}:
        (folder / "__init__.py").touch()
    return root


@pytest.mark.parametrize("files, expected", [
    ({"layers.py": "import torch\n"}, "rule 1: the numpy module pkg.layers (line 1) imports torch"),
    ({"layers.py": "def f():\n    import matplotlib.pyplot as plt\n"},
     "rule 1: the numpy module pkg.layers (line 2) imports matplotlib.pyplot"),
    ({"data/toy.py": "from pkg.display.plotting import PALETTE\n", "display/plotting.py": ""},
     "rule 1: the numpy module pkg.data.toy (line 1) imports pkg.display.plotting"),
    ({"layers.py": "from pkg import views\n", "views/cnn.py": ""},
     "rule 1: the numpy module pkg.layers (line 1) imports pkg.views"),
    ({"layers.py": "import importlib\ntorch = importlib.import_module('torch')\n"},
     "rule 1: the numpy module pkg.layers (line 2) imports torch"),
    ({"data/files.py": "import scipy.io\n"},
     "rule 1: the numpy module pkg.data.files (line 1) imports scipy.io"),
    ({"exercises/gan.py": "import torch\n"},
     "rule 1: the numpy module pkg.exercises.gan (line 1) imports torch"),
    ({"exercises/rnn.py": "def f():\n    import torch\n"},
     "rule 1: the numpy module pkg.exercises.rnn (line 2) imports torch"),
    ({"views/rnn.py": "def f():\n    import torch\n"},
     "rule 2: the view pkg.views.rnn (line 2) imports torch"),
    ({"a.py": "from pkg.b import x\n", "b.py": "def f():\n    from pkg.a import y\n"},
     "rule 3: import cycle pkg.a -> pkg.b -> pkg.a"),
    ({"views/a.py": "from pkg.views import b\n", "views/b.py": "from pkg.views.a import f\n"},
     "rule 3: import cycle pkg.views.a -> pkg.views.b -> pkg.views.a"),
    ({"a.py": "from pkg.b import _helper\n", "b.py": "def _helper(): pass\n"},
     "rule 4: pkg.a (line 1) imports the private _helper from pkg.b"),
])
def test_each_rule_catches_a_planted_violation(tmp_path, files, expected):
    assert expected in violations(plant(tmp_path, files))


def test_a_clean_planted_package_passes(tmp_path):
    root = plant(tmp_path, {
        "layers.py": "import numpy as np\n",
        "models/cnn.py": "import torch\nfrom pkg.layers import np\n",
        "views/cnn.py": "import matplotlib\nfrom pkg.models import cnn\n",
        "exercises/gan.py": "def build():\n    import torch\n",
    })
    assert violations(root) == []
