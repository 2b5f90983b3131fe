"""nnlib.optim against torch.optim (float64 trajectories), in-place updates, and bad input.

Measured agreement over 25 steps with O(1) parameters and gradients: at most a
few ulps (|ours - torch| <= 2e-15); the only difference is rounding (torch's
``add_(..., alpha=)`` and ``addcdiv_`` round differently from numpy's separate
multiply and subtract). The tolerance below keeps a margin of about 5x on that.
"""

import numpy as np
import pytest
import torch

from nnlib import optim

RTOL, ATOL = 1e-12, 1e-14
STEPS = 25
# Several parameters of different shapes, a 0-d one included, in one dict.
SHAPES = {"w1": (3, 4), "b1": (4,), "w2": (4, 1), "b2": (1,), "scale": ()}


def random_params(seed):
    rng = np.random.default_rng(seed)
    return {name: rng.standard_normal(shape) for name, shape in SHAPES.items()}


def gradient_sequence(seed, steps=STEPS):
    rng = np.random.default_rng(seed + 1000)
    return [{name: rng.standard_normal(shape) for name, shape in SHAPES.items()}
            for _ in range(steps)]


def assert_same_trajectory(ours, torch_factory, params, grads_seq):
    """Step ``ours`` and a torch optimizer on copies of ``params`` alike; compare every step."""
    tensors = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in params.items()}
    reference = torch_factory(list(tensors.values()))
    for t, grads in enumerate(grads_seq, start=1):
        ours.step({k: g.copy() for k, g in grads.items()})
        for name, tensor in tensors.items():
            tensor.grad = torch.tensor(grads[name].copy())
        reference.step()
        for name, tensor in tensors.items():
            np.testing.assert_allclose(params[name], tensor.detach().numpy(), rtol=RTOL,
                                       atol=ATOL, err_msg=f"{name!r} differs at step {t}")


SGD_CASES = [
    {"lr": 0.1},
    {"lr": 0.3, "momentum": 0.9},
    {"lr": 0.1, "momentum": 0.5, "nesterov": True},
    {"lr": 0.1, "momentum": 0.99, "nesterov": True},
    {"lr": 0.2, "weight_decay": 0.05},
    {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01},
    {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.1},
]
RMSPROP_CASES = [
    {},  # torch's defaults: lr 0.01, alpha 0.99, eps 1e-8
    {"lr": 0.03, "alpha": 0.9},
    {"lr": 0.01, "alpha": 0.5, "eps": 1e-3},
    {"lr": 0.02, "alpha": 0.0},
    {"lr": 0.01, "weight_decay": 0.1},
    {"lr": 0.03, "alpha": 0.95, "eps": 1e-4, "weight_decay": 0.05},
]
ADAM_CASES = [
    {},  # torch's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8
    {"lr": 0.05},
    {"lr": 0.05, "betas": (0.3, 0.9)},  # beta1 < 0.5: torch's lerp takes its other branch
    {"lr": 0.01, "betas": (0.0, 0.5)},
    {"lr": 0.02, "eps": 1e-2},
    {"lr": 0.01, "weight_decay": 0.1},
    {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-4, "weight_decay": 0.05},
]


TRAJECTORY_CASES = [
    *[(optim.SGD, torch.optim.SGD, kwargs) for kwargs in SGD_CASES],
    *[(optim.RMSprop, torch.optim.RMSprop, kwargs) for kwargs in RMSPROP_CASES],
    *[(optim.Adam, torch.optim.Adam, kwargs) for kwargs in ADAM_CASES],
]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("ours_class, torch_class, kwargs", TRAJECTORY_CASES,
                         ids=[f"{c[0].__name__}-{c[2]}" for c in TRAJECTORY_CASES])
def test_trajectory_equals_torch(ours_class, torch_class, kwargs, seed):
    params = random_params(seed)
    ours = ours_class(params, **kwargs)
    assert_same_trajectory(ours, lambda p: torch_class(p, **kwargs), params,
                           gradient_sequence(seed))


def torch_equivalent(name, lr, beta, weight_decay):
    """What ``make_optimizer(name, ...)`` promises, spelled in torch.optim."""
    return {
        "SGD": lambda p: torch.optim.SGD(p, lr=lr, weight_decay=weight_decay),
        "momentum": lambda p: torch.optim.SGD(p, lr=lr, momentum=beta,
                                              weight_decay=weight_decay),
        "Nesterov": lambda p: torch.optim.SGD(p, lr=lr, momentum=beta, nesterov=True,
                                              weight_decay=weight_decay),
        "RMSprop": lambda p: torch.optim.RMSprop(p, lr=lr, weight_decay=weight_decay),
        "Adam": lambda p: torch.optim.Adam(p, lr=lr, betas=(beta, 0.999),
                                           weight_decay=weight_decay),
    }[name]


def test_every_name_in_optimizers_has_a_torch_equivalent_here():
    assert set(optim.OPTIMIZERS) == {"SGD", "momentum", "Nesterov", "RMSprop", "Adam"}


@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
@pytest.mark.parametrize("name", optim.OPTIMIZERS)
def test_make_optimizer_equals_torch(name, weight_decay):
    params = random_params(3)
    ours = optim.make_optimizer(name, params, lr=0.03, beta=0.8, weight_decay=weight_decay)
    assert ours.params is params
    assert_same_trajectory(ours, torch_equivalent(name, 0.03, 0.8, weight_decay), params,
                           gradient_sequence(3))


def test_make_optimizer_picks_the_right_class_and_hyper_parameters():
    params = random_params(0)
    assert type(optim.make_optimizer("SGD", params, 0.1)) is optim.SGD
    momentum = optim.make_optimizer("momentum", params, 0.1, beta=0.7)
    assert (momentum.momentum, momentum.nesterov) == (0.7, False)
    nesterov = optim.make_optimizer("Nesterov", params, 0.1)
    assert (nesterov.momentum, nesterov.nesterov) == (0.9, True)
    assert type(optim.make_optimizer("RMSprop", params, 0.1)) is optim.RMSprop
    assert optim.make_optimizer("Adam", params, 0.1, beta=0.5).betas == (0.5, 0.999)


def test_hand_checkable_steps():
    p = {"w": np.array([1.0, -2.0])}
    optim.SGD(p, lr=0.5).step({"w": np.array([2.0, 2.0])})
    np.testing.assert_array_equal(p["w"], [0.0, -3.0])
    # Adam's first step is lr * sign(g) (up to eps): m_hat = g, sqrt(s_hat) = |g|
    p = {"w": np.array([1.0, -2.0])}
    optim.Adam(p, lr=0.1, eps=0.0).step({"w": np.array([3.0, -0.5])})
    np.testing.assert_allclose(p["w"], [0.9, -1.9], rtol=1e-15)
    # momentum: the velocity starts as the first gradient, then v = 0.5 v + g
    p = {"w": np.array([0.0])}
    sgd = optim.SGD(p, lr=1.0, momentum=0.5)
    sgd.step({"w": np.array([1.0])})
    sgd.step({"w": np.array([1.0])})
    np.testing.assert_array_equal(p["w"], [-1.0 - 1.5])


@pytest.mark.parametrize("name", optim.OPTIMIZERS)
def test_parameters_are_updated_in_place(name):
    params = random_params(4)
    arrays = dict(params)  # the very objects
    before = {k: v.copy() for k, v in params.items()}
    opt = optim.make_optimizer(name, params, lr=0.1)
    for grads in gradient_sequence(4, steps=3):
        opt.step(grads)
    assert opt.steps == 3
    for k in params:
        assert params[k] is arrays[k], f"{k!r} was replaced, not updated in place"
        assert not np.array_equal(params[k], before[k]), f"{k!r} did not move"


def test_step_does_not_modify_or_keep_the_gradients():
    params = random_params(5)
    grads = gradient_sequence(5, steps=1)[0]
    saved = {k: g.copy() for k, g in grads.items()}
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    opt.step(grads)
    for k in grads:
        np.testing.assert_array_equal(grads[k], saved[k])
        grads[k] += 100.0  # changing the caller's array later must not change the state
    for k in grads:
        np.testing.assert_array_equal(opt.state[k]["velocity"], saved[k])


def test_gradients_given_as_lists_or_integers_are_accepted():
    params = {"w": np.array([[1.0, 2.0]])}
    optim.SGD(params, lr=0.5).step({"w": [[2, -2]]})
    np.testing.assert_array_equal(params["w"], [[0.0, 3.0]])


def test_zero_gradients_leave_parameters_unchanged_without_weight_decay():
    for name in optim.OPTIMIZERS:
        params = random_params(6)
        before = {k: v.copy() for k, v in params.items()}
        opt = optim.make_optimizer(name, params, lr=0.1)
        for _ in range(3):
            opt.step({k: np.zeros_like(v) for k, v in params.items()})
        for k in params:
            np.testing.assert_array_equal(params[k], before[k], err_msg=name)


def test_a_rejected_step_changes_nothing():
    params = {"a": np.ones(2), "b": np.ones(3)}
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match=r"grads\['b'\]"):
        opt.step({"a": np.ones(2), "b": np.ones(2)})
    np.testing.assert_array_equal(params["a"], np.ones(2))
    assert opt.state["a"] == {} and opt.steps == 0


def good_params():
    return {"w": np.ones((2, 2)), "b": np.zeros(2)}


BAD_CONSTRUCTION = [
    (lambda: optim.SGD([np.ones(2)], lr=0.1), TypeError, "params must be a dict"),
    (lambda: optim.SGD({}, lr=0.1), ValueError, "params must not be empty"),
    (lambda: optim.SGD(np.ones(3), lr=0.1), TypeError, "params"),
    (lambda: optim.Adam({"w": np.ones(2, dtype=int)}), TypeError,
     r"params\['w'\] must be a float numpy array"),
    (lambda: optim.RMSprop({"w": [1.0, 2.0]}), TypeError,
     r"params\['w'\] must be a float numpy array.*got list"),
    (lambda: optim.SGD({"w": np.ones(2), "b": np.array([True])}, lr=0.1), TypeError,
     r"params\['b'\]"),
    (lambda: optim.SGD(good_params(), lr=0.0), ValueError, r"lr must be a number in \(0"),
    (lambda: optim.SGD(good_params(), lr=-0.1), ValueError, "lr must be .*got -0.1"),
    (lambda: optim.Adam(good_params(), lr=float("nan")), ValueError, "lr must be"),
    (lambda: optim.Adam(good_params(), lr=float("inf")), ValueError, "lr must be"),
    (lambda: optim.RMSprop(good_params(), lr="0.1"), ValueError, "lr must be"),
    (lambda: optim.SGD(good_params(), lr=True), ValueError, "lr must be"),
    (lambda: optim.SGD(good_params(), lr=0.1, momentum=1.0), ValueError,
     r"momentum must be a number in \[0.0, 1.0\), got 1.0"),
    (lambda: optim.SGD(good_params(), lr=0.1, momentum=1.5), ValueError, "momentum must be"),
    (lambda: optim.SGD(good_params(), lr=0.1, momentum=-0.1), ValueError, "momentum must be"),
    (lambda: optim.SGD(good_params(), lr=0.1, nesterov=True), ValueError,
     "nesterov=True needs momentum > 0"),
    (lambda: optim.SGD(good_params(), lr=0.1, weight_decay=-1e-4), ValueError,
     "weight_decay must be"),
    (lambda: optim.RMSprop(good_params(), alpha=1.0), ValueError, "alpha must be"),
    (lambda: optim.RMSprop(good_params(), alpha=-0.5), ValueError, "alpha must be"),
    (lambda: optim.RMSprop(good_params(), eps=-1e-8), ValueError, "eps must be"),
    (lambda: optim.Adam(good_params(), betas=0.9), ValueError,
     r"betas must be a pair \(beta1, beta2\), got 0.9"),
    (lambda: optim.Adam(good_params(), betas=(0.9,)), ValueError, "betas must be a pair"),
    (lambda: optim.Adam(good_params(), betas=(0.9, 0.99, 0.999)), ValueError,
     "betas must be a pair"),
    (lambda: optim.Adam(good_params(), betas=(1.0, 0.999)), ValueError, r"betas\[0\] must be"),
    (lambda: optim.Adam(good_params(), betas=(-0.1, 0.999)), ValueError, r"betas\[0\] must be"),
    (lambda: optim.Adam(good_params(), betas=(0.9, 1.0)), ValueError, r"betas\[1\] must be"),
    (lambda: optim.Adam(good_params(), betas=(0.9, "0.999")), ValueError, r"betas\[1\] must be"),
    (lambda: optim.Adam(good_params(), eps=-1.0), ValueError, "eps must be"),
    (lambda: optim.Adam(good_params(), weight_decay=float("nan")), ValueError,
     "weight_decay must be"),
    (lambda: optim.make_optimizer("adam", good_params(), 0.1), ValueError,
     r"name must be one of \('SGD', 'momentum', 'Nesterov', 'RMSprop', 'Adam'\), got 'adam'"),
]


@pytest.mark.parametrize("make, error, match", BAD_CONSTRUCTION,
                         ids=[str(i) for i in range(len(BAD_CONSTRUCTION))])
def test_rejects_bad_hyper_parameters_naming_the_argument(make, error, match):
    with pytest.raises(error, match=match):
        make()


BAD_GRADS = [
    ([np.ones((2, 2)), np.ones(2)], "grads must be a dict with the keys \\['b', 'w'\\], got list"),
    ({"w": np.ones((2, 2))}, r"grads must be a dict with the keys \['b', 'w'\], got \['w'\]"),
    ({"w": np.ones((2, 2)), "b": np.ones(2), "c": np.ones(1)},
     r"grads must be a dict with the keys \['b', 'w'\], got \['b', 'c', 'w'\]"),
    ({"w": np.ones((2, 2)), "bias": np.ones(2)}, "grads must be a dict with the keys"),
    ({"w": np.ones((2, 2)), "b": np.ones(3)},
     r"grads\['b'\] must have shape \(2,\) like the parameter, got \(3,\)"),
    ({"w": np.ones((2, 2)), "b": np.ones((1, 2))}, r"grads\['b'\] must have shape \(2,\)"),
    ({"w": np.ones(4), "b": np.ones(2)}, r"grads\['w'\] must have shape \(2, 2\)"),
]


@pytest.mark.parametrize("name", optim.OPTIMIZERS)
@pytest.mark.parametrize("grads, match", BAD_GRADS, ids=[str(i) for i in range(len(BAD_GRADS))])
def test_rejects_bad_gradients_naming_the_argument(name, grads, match):
    opt = optim.make_optimizer(name, good_params(), lr=0.1)
    with pytest.raises(ValueError, match=match):
        opt.step(grads)


def test_make_optimizer_nesterov_without_momentum_is_plain_sgd():
    params = {"w": np.ones(3)}
    optimizer = optim.make_optimizer("Nesterov", params, 0.1, beta=0.0)
    assert optimizer.momentum == 0 and not optimizer.nesterov
    optimizer.step({"w": np.full(3, 2.0)})
    np.testing.assert_allclose(params["w"], 0.8)
