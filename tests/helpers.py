"""What several test modules share, so that no test module imports another.

* the published solutions of the exercises (``solutions/``), loaded as modules;
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


def float64_copy(model):
    """A float64 copy of a torch model, on the CPU, in eval mode (the original is untouched)."""
    return copy.deepcopy(model).double().cpu().eval()


def torch_last_logits(model, ids):
    """The logits ``(V,)`` after the last of ``ids`` of a ``CharTransformer`` (no grad)."""
    import numpy as np
    import torch

    with torch.no_grad():
        return model(torch.as_tensor(np.asarray(ids))[None])[0, -1].numpy()
