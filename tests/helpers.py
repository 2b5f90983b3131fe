"""What several test modules share, so that no test module imports another.

* the published solutions of the exercises (``solutions/``), loaded as modules;
* the scripts in ``scripts/`` that tests exercise, loaded as modules (``load_script``);
* float64 copies of trained torch models and their logits, the reference that the
  numpy samplers (``nnlib.sampling``) and the text views are compared with;
* the oracle for every numpy forward/backward pair is ``tests/parity.py``
  (``check_pair``), with its own tests in ``test_parity_harness.py``.
"""

import copy
import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS = REPO / "solutions"


def load_solutions(module):
    """The solutions file that the exercise module ``module`` names, imported."""
    path = SOLUTIONS / module.SOLUTIONS_FILE
    spec = importlib.util.spec_from_file_location(path.stem, path)
    solutions = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(solutions)
    return solutions


def load_script(name):
    """``scripts/{name}.py`` imported as the module ``name`` (registered in sys.modules)."""
    import sys

    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def float64_copy(model):
    """A float64 copy of a torch model, on the CPU, in eval mode (the original is untouched)."""
    return copy.deepcopy(model).double().cpu().eval()


def torch_last_logits(model, ids):
    """The logits ``(V,)`` after the last of ``ids`` of a ``CharTransformer`` (no grad)."""
    import numpy as np
    import torch

    with torch.no_grad():
        return model(torch.as_tensor(np.asarray(ids))[None])[0, -1].numpy()


def solved_notebook(path, out, wrong=None):
    """Write to ``out`` a copy of the notebook ``path`` with every exercise solved.

    Each learner's cell (the one defining the function a check cell passes to
    ``exercises.<exercise>.check(<function>)``) runs the published solutions file in a
    namespace of its own (so that it shadows none of the notebook's names) and sets
    ``<function>`` to the solution. ``wrong`` maps a learner's function name to
    source code to put there instead (a planted mistake).
    """
    import json
    import re

    notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    code = "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code")
    topic = re.search(r"from nnlib\.exercises import (\w+) as exercises", code).group(1)
    module = importlib.import_module(f"nnlib.exercises.{topic}")
    solutions = (SOLUTIONS / module.SOLUTIONS_FILE).read_text(encoding="utf-8")
    wrong = wrong or {}
    for attr, function in re.findall(r"exercises\.(\w+)\.check\((\w+)\)", code):
        exercise = getattr(module, attr)
        key = next(k for k, v in module.EXERCISES.items() if v is exercise)
        cell = next(c for c in notebook["cells"] if c["cell_type"] == "code"
                    and re.search(rf"^def {function}\(", "".join(c["source"]), re.M))
        source = wrong.get(function, f"_solutions = {{}}\nexec({solutions!r}, _solutions)\n"
                                     f"{function} = _solutions[{key!r}]\n")
        cell["source"] = source.splitlines(keepends=True)
    Path(out).write_text(json.dumps(notebook), encoding="utf-8")
    return out
