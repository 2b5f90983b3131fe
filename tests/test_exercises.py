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
