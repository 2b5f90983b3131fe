"""What the optimizer views compute. Rendering, extremes and responsiveness are checked
for every view in tests/test_views.py."""

import warnings

import numpy as np
import pytest

from nnlib.mlp import MLP
from nnlib.optim import OPTIMIZERS, make_optimizer
from nnlib.surfaces import SURFACES
from nnlib.views.optimizers import (
    EXAMPLES_PER_TICK,
    LR_OPTIONS,
    landscape_explorer,
    optimizer_race,
    race_data,
)


@pytest.fixture(scope="module")
def landscape():
    return landscape_explorer()


@pytest.fixture(scope="module")
def race():
    return optimizer_race()


def test_every_surface_suggests_learning_rates_on_the_sliders():
    for surface in SURFACES.values():
        assert min(LR_OPTIONS) <= surface.lr <= max(LR_OPTIONS)
        assert min(LR_OPTIONS) <= surface.adaptive_lr <= max(LR_OPTIONS)


def test_the_default_landscape_has_no_divergence(landscape):
    for surface in SURFACES:
        s = SURFACES[surface]
        for start in (1, 2, 3):
            landscape.render(surface=surface, start=start, lr=min(LR_OPTIONS, key=lambda v: abs(
                np.log(v / s.lr))), adaptive_lr=min(LR_OPTIONS, key=lambda v: abs(
                    np.log(v / s.adaptive_lr))))
            assert landscape.message == "", (surface, start, landscape.message)


def test_a_diverging_path_is_named_without_warnings(landscape):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        landscape.render(surface="valley", lr=3.0, adaptive_lr=0.1, steps=300)
    assert "SGD" in landscape.message and "diverged" in landscape.message
    assert "lower the learning rate" in landscape.message
    assert "Adam" not in landscape.message  # its own slider is fine


def test_choosing_a_surface_sets_its_learning_rates(landscape):
    landscape.controls["surface"].value = "banana"
    assert landscape.controls["lr"].value == pytest.approx(SURFACES["banana"].lr)
    landscape.controls["surface"].value = "valley"
    assert landscape.controls["lr"].value == pytest.approx(SURFACES["valley"].lr)


def test_the_race_trains_each_optimizer_on_the_same_batches(race):
    race.reset()
    race.advance(frames=3)
    x, y, _, _ = race_data()
    # Replay: same initial weights, same shuffles, the same 4 batches of 32 per tick.
    rng = np.random.default_rng(0)
    order = rng.permutation(len(x))
    batches = [order[i * 32:(i + 1) * 32] for i in range(3 * EXAMPLES_PER_TICK // 32)]
    values = race.values()
    for name in OPTIMIZERS:
        line = race.fig.axes[0].lines[OPTIMIZERS.index(name)]
        assert len(line.get_xdata()) == 4  # the start and three ticks
    state = _race_state(race)
    for name in OPTIMIZERS:
        net = MLP([64, 64, 10], seed=0)
        adaptive = name in ("RMSprop", "Adam")
        optimizer = make_optimizer(name, net.params,
                                   values["adaptive_lr"] if adaptive else values["lr"],
                                   beta=values["beta"])
        for batch in batches:
            optimizer.step(net.loss(x[batch], y[batch])[1])
        for key, p in net.params.items():
            np.testing.assert_allclose(state["models"][name].params[key], p, rtol=1e-12,
                                       atol=1e-14)
    assert state["epoch"] == pytest.approx(3 * EXAMPLES_PER_TICK / len(x))


def _race_state(view):
    for cell in view._step.__closure__:
        if isinstance(cell.cell_contents, dict) and "models" in cell.cell_contents:
            return cell.cell_contents
    raise AssertionError("no race state")


def test_a_diverged_run_stops_and_is_named(race):
    race.reset()
    for _ in range(15):
        race.advance(lr=10.0)
    assert "diverged" in race.message and "SGD" in race.message
    state = _race_state(race)
    lengths = {name: len(state["xs"][name]) for name in OPTIMIZERS}
    race.advance(lr=10.0)
    for name in ("SGD", "momentum", "Nesterov"):
        assert state["diverged"][name] is not None
        assert len(state["xs"][name]) == lengths[name]  # the curve has stopped
    for name in ("RMSprop", "Adam"):
        assert state["diverged"][name] is None
        assert len(state["xs"][name]) == lengths[name] + 1
    race.reset()
    assert race.message == ""


def test_the_x_axis_doubles_as_the_race_goes_on(race):
    race.reset()
    race.render(batch_size=1438)
    for _ in range(3):
        race.advance(batch_size=1438)  # one epoch per tick
    assert race.fig.axes[0].get_xlim() == (0.0, 4.0)
    race.render(batch_size=32)
