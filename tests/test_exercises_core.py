"""The exercise mechanism: each diagnosis, in its order, and never an exception."""

import numpy as np
import pytest

from nnlib.exercises import Case, CheckResult, Exercise, Mistake


def affine(x, w, b):
    return x @ w + b


EXERCISE = Exercise(
    "affine", affine,
    cases=[Case((np.ones((2, 3)), np.arange(6.0).reshape(3, 2), np.array([1.0, -1.0])), "B=2"),
           Case((np.ones((1, 3)), np.ones((3, 2)), np.array([0.5, 0.0])), "B=1")],
    mistakes=[Mistake(lambda x, w, b: x @ w, "off by the bias term: add b")],
    shape_names=("B", "M"),
)


def not_implemented(x, w, b):
    raise NotImplementedError


@pytest.mark.parametrize("fn, diagnosis, text", [
    (affine, "correct", "correct on all 2 cases"),
    (not_implemented, "not-implemented", "not implemented yet"),
    (lambda x, w, b: x @ w.T, "raised", "raised ValueError"),
    (lambda x, w, b: None, "returned-none", "forget `return`"),
    (lambda x, w, b: x @ w, "mistake", "off by the bias term"),
    (lambda x, w, b: (x @ w + b).sum(axis=0), "shape", "expected (B, M) = (2, 2), got (2,)"),
    (lambda x, w, b: (x @ w + b) / 0.0, "not-finite", "NaN or infinity"),
    (lambda x, w, b: -(x @ w + b), "sign", "wrong sign"),
    (lambda x, w, b: 2 * (x @ w + b), "scale", "factor of 2"),
    (lambda x, w, b: x @ w + b + np.array([0.0, 0.1]), "values", "at index (0, 1)"),
    (lambda x, w, b: "text", "type", "got str"),
])
def test_each_diagnosis(fn, diagnosis, text):
    result = EXERCISE.check(fn)
    assert isinstance(result, CheckResult)
    assert result.diagnosis == diagnosis, result.message
    assert text in result.message
    assert bool(result) == (diagnosis == "correct")


def test_the_failing_case_is_named():
    def wrong_for_batch_one(x, w, b):
        return affine(x, w, b) + (len(x) == 1)

    assert "on case B=1" in EXERCISE.check(wrong_for_batch_one).message


def test_the_learner_function_cannot_change_the_cases():
    def mutating(x, w, b):
        x *= 0
        return affine(x, w, b)

    EXERCISE.check(mutating)
    assert EXERCISE.check(affine).passed


def test_a_broken_reference_is_reported_not_raised():
    broken = Exercise("f", lambda x: 1 / 0, [Case((1.0,), "x=1")])
    result = broken.check(lambda x: 1.0)
    assert not result.passed and result.diagnosis == "checker-error"


def test_scalar_answers():
    ex = Exercise("square", lambda x: x * x, [Case((3.0,), "x=3")])
    assert ex.check(lambda x: x**2).passed
    assert ex.check(lambda x: 2 * x).diagnosis == "values"
    assert ex.check(lambda x: -x * x).diagnosis == "sign"


def test_an_exercise_needs_cases():
    with pytest.raises(ValueError, match="at least one case"):
        Exercise("f", abs, [])


def test_a_tuple_answer_names_the_member_that_is_wrong():
    exercise = Exercise(
        "pair", reference=lambda a: (a * 2, np.array([a.sum()])),
        cases=[Case((np.arange(6.0).reshape(2, 3),), "a 2x3 array")],
        adapt=lambda out: np.concatenate([np.ravel(o) for o in out]), parts=("double", "total"))
    result = exercise.check(lambda a: (a * 2, np.array([a.sum() + 1])))
    assert result.diagnosis == "values"
    assert "total is wrong at index (0,): expected 15, got 16" in result.message
    result = exercise.check(lambda a: (a * 2 + (a == 4), np.array([a.sum()])))
    assert "double is wrong at index (1, 1): expected 8, got 9" in result.message


def test_a_question_keeps_its_question_mark():
    exercise = Exercise("f", reference=lambda x: x, cases=[Case((1.0,), "one")])
    assert exercise.check(lambda x: None).message.endswith("did you forget `return`?")
