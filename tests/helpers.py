"""What several test modules share, so that no test module imports another.

* the published solutions of the exercises (``solutions/``), loaded as modules;
* the oracle for every numpy forward/backward pair is ``tests/parity.py``
  (``check_pair``), with its own tests in ``test_parity_harness.py``.
"""

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
