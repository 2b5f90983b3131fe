"""Every exercise accepts its published solution and diagnoses typical wrong answers.

Each topic module in ``nnlib.exercises`` names its solutions file and maps the
solution functions to exercises; every ``Mistake`` it lists is a typical wrong
answer that must be rejected with that mistake's own hint.
"""

import importlib
import importlib.util
import pkgutil

import pytest
from helpers import SOLUTIONS, load_solutions

import nnlib.exercises

MODULES = [importlib.import_module(f"nnlib.exercises.{m.name}")
           for m in pkgutil.iter_modules(nnlib.exercises.__path__)]
CASES = [(module, name, exercise) for module in MODULES
         for name, exercise in module.EXERCISES.items()]
IDS = [f"{module.__name__.rsplit('.', 1)[1]}.{name}" for module, name, _ in CASES]


def test_every_topic_module_has_exercises_and_a_solutions_file():
    assert MODULES, "no exercise modules found"
    for module in MODULES:
        assert module.EXERCISES, module.__name__
        assert (SOLUTIONS / module.SOLUTIONS_FILE).exists(), module.SOLUTIONS_FILE


@pytest.mark.parametrize("module, name, exercise", CASES, ids=IDS)
def test_accepts_the_published_solution(module, name, exercise):
    result = exercise.check(getattr(load_solutions(module), name))
    assert result.passed, result.message


@pytest.mark.parametrize("module, name, exercise", CASES, ids=IDS)
def test_rejects_each_typical_mistake_with_its_hint(module, name, exercise):
    assert len(exercise.mistakes) >= 2, "list at least two typical mistakes"
    for mistake in exercise.mistakes:
        result = exercise.check(mistake.wrong)
        assert not result.passed
        assert result.diagnosis == "mistake" and mistake.hint in result.message, result.message


@pytest.mark.parametrize("module, name, exercise", CASES, ids=IDS)
def test_an_unsolved_exercise_reports_instead_of_raising(module, name, exercise):
    def unsolved(*args, **kwargs):
        raise NotImplementedError

    result = exercise.check(unsolved)
    assert result.diagnosis == "not-implemented" and "not implemented yet" in result.message


# ------------------------------------------------------------- the exercises in the notebooks

NOTEBOOKS = sorted((SOLUTIONS.parent / "notebooks").glob("[01][0-9]_*.ipynb"))
TOPIC_NOTEBOOKS = [p for p in NOTEBOOKS if not p.name.startswith("00")]


def check_cells(path):
    """``(module, exercise key, index of the check cell, cells)`` for each check cell."""
    import json
    import re

    cells = json.loads(path.read_text())["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    topic = re.search(r"from nnlib\.exercises import (\w+) as exercises", code).group(1)
    module = importlib.import_module(f"nnlib.exercises.{topic}")
    found = []
    for index, cell in enumerate(cells):
        source = "".join(cell["source"])
        if cell["cell_type"] != "code":
            continue
        for attr in re.findall(r"exercises\.(\w+)\.check\(", source):
            key = next(k for k, v in module.EXERCISES.items() if v is getattr(module, attr))
            found.append((module, key, index, cells))
    return found


@pytest.mark.parametrize("path", TOPIC_NOTEBOOKS, ids=lambda p: p.name)
def test_every_topic_notebook_has_at_least_three_exercises_each_checked(path):
    checked = {key for _, key, _, _ in check_cells(path)}
    module = check_cells(path)[0][0]
    assert len(checked) >= 3, (path.name, sorted(checked))
    assert checked == set(module.EXERCISES), ("every exercise of the module is checked in "
                                              "its notebook", path.name, sorted(checked))


@pytest.mark.parametrize("path", TOPIC_NOTEBOOKS, ids=lambda p: p.name)
def test_every_check_cell_is_followed_by_a_link_to_its_solution(path):
    for module, key, index, cells in check_cells(path):
        after = cells[index + 1] if index + 1 < len(cells) else {"cell_type": "", "source": ""}
        text = "".join(after["source"])
        file = module.SOLUTIONS_FILE
        link = f"[`{key}` in `solutions/{file}`](../solutions/{file})"
        assert after["cell_type"] == "markdown" and link in text, (
            f"{path.name}: the cell after the check of {key} should link its solution: {link}")
        target = (path.parent / f"../solutions/{module.SOLUTIONS_FILE}").resolve()
        assert f"def {key}(" in target.read_text(), (target, key)
