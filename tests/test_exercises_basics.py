"""The exercises of notebooks 01-03 beyond what test_exercises.py checks for every exercise:
the references agree with the library they teach, the training loop's checker explains a
failure part by part, and every check cell in the notebooks is followed by its solution link."""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from nnlib.activations import ACTIVATIONS
from nnlib.exercises import activations, losses, neurons
from nnlib.init import init_weights, signal_propagation
from nnlib.losses import mse
from nnlib.perceptron import LOGIC_GATES, LOGIC_INPUTS, step, train_perceptron

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


# ---------------------------------------------------------------- the references


@pytest.mark.parametrize("gate", sorted(LOGIC_GATES))
def test_the_training_loop_reference_is_the_library_loop(gate):
    w, b, mistakes = neurons.perceptron_training.reference(
        LOGIC_INPUTS, LOGIC_GATES[gate], np.zeros(2), 0.0, 1.0, 30)
    library = train_perceptron(LOGIC_INPUTS, LOGIC_GATES[gate], lr=1.0, max_epochs=30)
    assert np.array_equal(w, library.w) and b == library.b and mistakes == library.mistakes


def test_the_training_loop_cases_stop_early_and_run_out():
    lengths = {case.label: (len(neurons.perceptron_training.reference(*case.args)[2]),
                            case.args[-1])
               for case in neurons.perceptron_training.cases}
    assert any(n < epochs for n, epochs in lengths.values())  # converged before the limit
    assert any(n == epochs for n, epochs in lengths.values())  # ran out of epochs (XOR)
    assert (1, 10) in lengths.values()  # already right: one epoch without a mistake


@pytest.mark.parametrize("activation, scheme", [("tanh", "small"), ("relu", "he")])
def test_the_deep_forward_reference_is_the_forward_half_of_signal_propagation(activation,
                                                                              scheme):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((32, 16))
    weights = [init_weights(16, 16, scheme, rng) for _ in range(4)]
    stats = signal_propagation(4, 16, activation, scheme, batch=32, seed=3)
    got = activations.deep_forward.reference(x, weights, ACTIVATIONS[activation][0])
    assert np.allclose(got, [np.std(h) for h in stats.activations], rtol=1e-12)


def test_the_line_fit_reference_reaches_least_squares():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 20)
    y = 3.0 * x - 0.5 + 0.1 * rng.standard_normal(20)
    a, c = losses.line_fit.reference(x, y, lambda p, t: mse(p, t)[1], 0.5, 300)
    assert np.allclose([a, c], np.polyfit(x, y, 1), rtol=0, atol=1e-9)


# --------------------------------------------- the training loop's part-by-part diagnosis


def _altered(change):
    def learner(X, t, w, b, lr, epochs):
        return change(*neurons.perceptron_training.reference(X, t, w, b, lr, epochs))
    return learner


@pytest.mark.parametrize("change, diagnosis, text", [
    (lambda w, b, m: (w + 0.25, b, m), "values", "the mistakes per epoch are right, but the "
                                                 "final w = [2.25, 1.25]"),
    (lambda w, b, m: (w, b + 1.0, m), "values", "b = -1, expected w = [2.0, 1.0] and b = -2"),
    (lambda w, b, m: (w, b, m[:-1]), "values", "run epochs until the first one without a mistake"),
    (lambda w, b, m: (w, b, [n + 1 for n in m]), "values", "before their update"),
    (lambda w, b, m: (np.append(w, 0.0), b, m), "shape", "w must keep its shape (D,) = (2,)"),
    (lambda w, b, m: (w, b), "form", "return three things (w, b, mistakes)"),
    (lambda w, b, m: (w, b, np.array(m)), "correct", "correct on all"),
])
def test_a_wrong_training_loop_is_explained_part_by_part(change, diagnosis, text):
    result = neurons.perceptron_training.check(_altered(change))
    assert result.diagnosis == diagnosis and text in result.message, result.message


def test_the_learner_may_use_their_own_perceptron_step():
    def my_train(X, t, w, b, lr, epochs):
        mistakes = []
        for _ in range(epochs):
            wrong = 0
            for x, target in zip(X, t):
                y = step(x @ w + b)
                wrong += int(y != target)
                w, b = w + lr * (target - y) * x, b + lr * (target - y)
            mistakes.append(wrong)
            if not wrong:
                break
        return w, b, np.array(mistakes)

    assert neurons.perceptron_training.check(my_train).passed


# ------------------------------------------------------------ the notebooks' solution links

LINK = re.compile(r"^\*\*Solution\*\*, once you have tried: \[`(\w+)` in `solutions/([\w.]+)`\]"
                  r"\(\.\./solutions/([\w.]+)\)$")


@pytest.mark.parametrize("name, module", [("01_neurons", neurons),
                                          ("02_activations", activations),
                                          ("03_losses", losses)])
def test_every_check_cell_is_followed_by_its_solution_link(name, module):
    cells = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text())["cells"]
    keys = {id(exercise): key for key, exercise in module.EXERCISES.items()}
    linked, headers = [], []
    for cell, following in zip(cells, cells[1:] + [None]):
        source = "".join(cell["source"])
        headers += re.findall(r"^### Exercise (\d+):", source, flags=re.M)
        check = re.search(r"exercises\.(\w+)\.check\(", source)
        if cell["cell_type"] != "code" or not check:
            continue
        key = keys[id(getattr(module, check.group(1)))]
        assert following is not None and following["cell_type"] == "markdown", key
        link = LINK.match("".join(following["source"]).strip())
        assert link, "".join(following["source"])
        assert link.groups() == (key, module.SOLUTIONS_FILE, module.SOLUTIONS_FILE)
        linked.append(key)
    assert sorted(linked) == sorted(module.EXERCISES)  # every exercise checked once, and linked
    assert headers == [str(n) for n in range(1, len(module.EXERCISES) + 1)]
