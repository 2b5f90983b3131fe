"""nnlib.mlp.MLP against an equal torch model (float64), finite differences, fit(), bad input."""

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from parity import NUMERIC_ATOL, NUMERIC_RTOL, TORCH_ATOL, TORCH_RTOL

from nnlib.gradcheck import numerical_gradient
from nnlib.mlp import MLP, MLP_ACTIVATIONS, History, fit
from nnlib.optim import SGD, Adam

TORCH_ACTIVATIONS = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "leaky_relu": F.leaky_relu,  # slope 0.01, as nnlib's default
    "gelu": lambda z: F.gelu(z, approximate="none"),
    "linear": lambda z: z,
}
# [D, H1, ..., K]: no hidden layer, hidden width 1, one class, and deeper stacks
SIZES = [[4, 3], [3, 1, 2], [2, 3, 1], [5, 7, 3], [4, 6, 5, 3]]


def test_every_activation_has_a_torch_reference():
    assert set(TORCH_ACTIVATIONS) == set(MLP_ACTIVATIONS)


def make_model(sizes, activation, dropout=0.0, seed=0):
    """An MLP whose biases are random too (they start at zero), so that they are tested."""
    model = MLP(sizes, activation=activation, dropout=dropout, seed=seed)
    rng = np.random.default_rng(seed + 100)
    for name, p in model.params.items():
        if name.startswith("b"):
            p[...] = 0.5 * rng.standard_normal(p.shape)
    return model


def data(sizes, batch, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((batch, sizes[0])), rng.integers(0, sizes[-1], batch)


def torch_forward(model, x, masks=None):
    """The same network in torch, ``x @ w + b``; ``masks`` are the dropout masks to reuse."""
    tensors = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in model.params.items()}
    act = TORCH_ACTIVATIONS[model.activation]
    h = torch.tensor(x)
    for i in range(1, model.n_layers + 1):
        h = h @ tensors[f"w{i}"] + tensors[f"b{i}"]
        if i < model.n_layers:
            h = act(h)
            if masks is not None:
                h = h * torch.tensor(masks[i - 1])
    return h, tensors


def dropout_masks(model):
    """The masks the last forward pass drew, from the model's caches."""
    masks = []
    for _, z, drop in model._caches[:-1]:
        assert z is not None
        masks.append(drop.mask)
    return masks


def assert_grads_equal(grads, tensors):
    assert list(grads) == list(tensors)  # same keys, same order as params
    for name, tensor in tensors.items():
        assert grads[name].shape == tuple(tensor.shape)
        np.testing.assert_allclose(grads[name], tensor.grad.numpy(), rtol=TORCH_RTOL,
                                   atol=TORCH_ATOL, err_msg=f"gradient {name!r} differs")


@pytest.mark.parametrize("batch", [1, 8])
@pytest.mark.parametrize("sizes", SIZES, ids=str)
@pytest.mark.parametrize("activation", MLP_ACTIVATIONS)
def test_forward_and_backward_match_torch(activation, sizes, batch):
    model = make_model(sizes, activation)
    x, _ = data(sizes, batch)
    logits = model.forward(x)
    ref, tensors = torch_forward(model, x)
    np.testing.assert_allclose(logits, ref.detach().numpy(), rtol=TORCH_RTOL, atol=TORCH_ATOL)
    dlogits = np.random.default_rng(1).standard_normal(logits.shape)  # never .sum()
    grads = model.backward(dlogits)
    ref.backward(torch.tensor(dlogits))
    assert_grads_equal(grads, tensors)


@pytest.mark.parametrize("p", [0.2, 0.5])
@pytest.mark.parametrize("sizes", [[3, 1, 2], [5, 7, 3], [4, 6, 5, 3]], ids=str)
@pytest.mark.parametrize("activation", MLP_ACTIVATIONS)
def test_dropout_forward_and_backward_match_torch_with_the_same_masks(activation, sizes, p):
    model = make_model(sizes, activation, dropout=p)
    x, _ = data(sizes, 16)
    logits = model.forward(x, train=True)
    masks = dropout_masks(model)
    everything = np.concatenate([m.ravel() for m in masks])
    assert (everything == 0).any() and (everything > 0).any()  # some dropped, some kept
    ref, tensors = torch_forward(model, x, masks)
    np.testing.assert_allclose(logits, ref.detach().numpy(), rtol=TORCH_RTOL, atol=TORCH_ATOL)
    dlogits = np.random.default_rng(2).standard_normal(logits.shape)
    grads = model.backward(dlogits)
    ref.backward(torch.tensor(dlogits))
    assert_grads_equal(grads, tensors)


def torch_loss(model, x, y, l1, l2, masks=None):
    logits, tensors = torch_forward(model, x, masks)
    loss = F.cross_entropy(logits, torch.tensor(y))
    weights = [t for k, t in tensors.items() if k.startswith("w")]
    loss = loss + l1 * sum(w.abs().sum() for w in weights)
    loss = loss + l2 / 2 * sum((w**2).sum() for w in weights)
    loss.backward()
    return loss.item(), tensors


@pytest.mark.parametrize("dropout", [0.0, 0.3])
@pytest.mark.parametrize("l1, l2", [(0.01, 0.0), (0.0, 0.1), (0.02, 0.3)])
@pytest.mark.parametrize("activation", MLP_ACTIVATIONS)
def test_loss_with_penalties_matches_torch(activation, l1, l2, dropout):
    sizes = [4, 6, 5, 3]
    model = make_model(sizes, activation, dropout=dropout)
    x, y = data(sizes, 7)
    loss, grads = model.loss(x, y, l1=l1, l2=l2)  # train=True: dropout is on
    assert type(loss) is float
    masks = dropout_masks(model) if dropout else None
    expected, tensors = torch_loss(model, x, y, l1, l2, masks)
    assert loss == pytest.approx(expected, rel=TORCH_RTOL, abs=TORCH_ATOL)
    assert_grads_equal(grads, tensors)


def test_loss_at_test_time_uses_no_dropout():
    sizes = [4, 6, 3]
    model = make_model(sizes, "tanh", dropout=0.5)
    x, y = data(sizes, 5)
    loss, grads = model.loss(x, y, l2=0.1, train=False)
    expected, tensors = torch_loss(model, x, y, 0.0, 0.1)
    assert loss == pytest.approx(expected, rel=TORCH_RTOL, abs=TORCH_ATOL)
    assert_grads_equal(grads, tensors)


@pytest.mark.parametrize("dropout", [0.0, 0.4])
@pytest.mark.parametrize("activation", MLP_ACTIVATIONS)
def test_loss_gradients_match_finite_differences(activation, dropout):
    sizes = [3, 4, 3]
    model = make_model(sizes, activation, dropout=dropout, seed=3)
    x, y = data(sizes, 5, seed=3)

    def loss_at(_):
        model.rng = np.random.default_rng(7)  # the same dropout masks on every call
        return model.loss(x, y, l1=0.01, l2=0.05)[0]

    model.rng = np.random.default_rng(7)
    _, grads = model.loss(x, y, l1=0.01, l2=0.05)
    for name, p in model.params.items():
        expected = numerical_gradient(loss_at, p)
        np.testing.assert_allclose(grads[name], expected, rtol=NUMERIC_RTOL, atol=NUMERIC_ATOL,
                                   err_msg=f"gradient {name!r} differs from finite differences")


def test_structure_and_helpers():
    model = MLP([4, 5, 3], seed=1)
    assert list(model.params) == ["w1", "b1", "w2", "b2"]
    assert model.params["w1"].shape == (4, 5) and model.params["b2"].shape == (3,)
    assert model.n_layers == 2 and model.n_params == 4 * 5 + 5 + 5 * 3 + 3
    assert all(not p.any() for k, p in model.params.items() if k.startswith("b"))
    x, y = data([4, 5, 3], 10)
    proba = model.predict_proba(x)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-15)
    np.testing.assert_array_equal(model.predict(x), proba.argmax(axis=1))
    assert model.accuracy(x, y) == np.mean(model.predict(x) == y)
    (hidden,) = model.hidden_activations(x)
    np.testing.assert_allclose(hidden, np.maximum(x @ model.params["w1"], 0), rtol=1e-15)


def test_same_seed_same_weights_and_init_scales():
    a, b, c = MLP([50, 40, 3], seed=5), MLP([50, 40, 3], seed=5), MLP([50, 40, 3], seed=6)
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
    assert not np.array_equal(a.params["w1"], c.params["w1"])
    # He for ReLU, Xavier for tanh: sample std within 10% of the scheme's (2000 draws)
    assert np.std(a.params["w1"]) == pytest.approx(np.sqrt(2 / 50), rel=0.1)
    tanh = MLP([50, 40, 3], activation="tanh", seed=5)
    assert np.std(tanh.params["w1"]) == pytest.approx(np.sqrt(2 / 90), rel=0.1)


def test_a_diverged_network_gives_inf_loss_and_zero_gradients():
    model = MLP([2, 3, 2], activation="linear")
    model.params["w1"][...] = 1e200
    model.params["w2"][...] = 1e200
    with np.errstate(over="ignore", invalid="ignore"):
        loss, grads = model.loss(np.ones((2, 2)), np.array([0, 1]))
    assert loss == math.inf
    assert all(not g.any() for g in grads.values())


# ------------------------------------------------------------------ fit
def toy_problem(n=64, seed=0):
    """XOR-like: the class is the sign of x0 * x1; no linear model can fit it."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 2))
    return x, (x[:, 0] * x[:, 1] > 0).astype(int)


def test_fit_decreases_the_loss_on_a_toy_problem():
    x, y = toy_problem()
    x_val, y_val = toy_problem(32, seed=1)
    model = MLP([2, 16, 16, 2], activation="tanh", seed=0)
    history = fit(model, Adam(model.params, lr=0.01), x, y, epochs=30, batch_size=16,
                  x_val=x_val, y_val=y_val)
    assert isinstance(history, History) and not history.diverged
    assert len(history.train_loss) == len(history.val_loss) == len(history.val_accuracy) == 30
    assert history.train_loss[-1] < 0.5 * history.train_loss[0]
    assert history.val_loss[-1] < history.val_loss[0]
    assert model.accuracy(x, y) > 0.9


def test_fit_is_reproducible_for_the_same_seed():
    x, y = toy_problem()

    def run(fit_seed, model_seed=0):
        model = MLP([2, 8, 2], activation="relu", dropout=0.2, seed=model_seed)
        history = fit(model, SGD(model.params, lr=0.1, momentum=0.9), x, y, epochs=5,
                      batch_size=10, l1=1e-3, l2=1e-3, seed=fit_seed)
        return history, model.params

    (h1, p1), (h2, p2) = run(0), run(0)
    assert h1 == h2
    for k in p1:
        np.testing.assert_array_equal(p1[k], p2[k])
    assert run(1)[0].train_loss != h1.train_loss  # another shuffle
    assert run(0, model_seed=1)[0].train_loss != h1.train_loss  # other weights and masks


def test_fit_reports_divergence_without_exceptions_or_warnings():
    x, y = toy_problem()
    model = MLP([2, 8, 2], activation="relu", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = fit(model, SGD(model.params, lr=1e6), x, y, epochs=50, batch_size=16,
                      x_val=x, y_val=y)
    assert history.diverged is True
    assert len(history.train_loss) < 50  # stopped early
    assert not math.isfinite(history.train_loss[-1])
    assert all(math.isfinite(v) for v in history.train_loss[:-1])
    assert len(history.val_loss) == len(history.train_loss)


def test_fit_reports_progress_every_epoch_and_finishes():
    class Recorder:
        def __init__(self):
            self.calls, self.finished = [], 0

        def update(self, epoch, **metrics):
            self.calls.append((epoch, sorted(metrics)))

        def finish(self):
            self.finished += 1

    x, y = toy_problem()
    model = MLP([2, 4, 2], seed=0)
    recorder = Recorder()
    fit(model, SGD(model.params, lr=0.1), x, y, epochs=3, x_val=x, y_val=y, progress=recorder)
    assert recorder.calls == [(e, ["train loss", "validation loss"]) for e in (1, 2, 3)]
    assert recorder.finished == 1

    class UpdateOnly:  # "anything with update(epoch, **metrics)"
        epochs = []

        def update(self, epoch, **metrics):
            self.epochs.append(epoch)

    progress = UpdateOnly()
    fit(model, SGD(model.params, lr=0.1), x, y, epochs=2, progress=progress)
    assert progress.epochs == [1, 2]


def test_fit_mean_loss_is_weighted_by_batch_size():
    # with lr tiny the parameters barely move, so the epoch's mean loss is the data loss
    x, y = toy_problem(10)
    model = MLP([2, 4, 2], seed=0)
    expected, _ = model.loss(x, y)
    history = fit(model, SGD(model.params, lr=1e-12), x, y, epochs=1, batch_size=4)
    assert history.train_loss[0] == pytest.approx(expected, rel=1e-9)


# ------------------------------------------------------------------ bad input
BAD_MODEL = [
    ({"sizes": [3]}, r"sizes must list at least two positive integers \[D, ..., K\], got \[3\]"),
    ({"sizes": []}, "sizes must list at least two positive integers"),
    ({"sizes": [3, 0]}, r"sizes must list .*got \[3, 0\]"),
    ({"sizes": [3, -2, 2]}, "sizes must list at least two positive integers"),
    ({"sizes": [3, 2.5]}, "sizes must list at least two positive integers"),
    ({"sizes": [3, "4"]}, "sizes must list at least two positive integers"),
    ({"activation": "softmax"},
     r"activation must be one of \('relu', 'tanh', 'sigmoid', 'leaky_relu', 'gelu', 'linear'\), "
     "got 'softmax'"),
    ({"activation": "ReLU"}, "activation must be one of"),
    ({"dropout": 1}, r"dropout must be a probability in \[0, 1\), got 1"),
    ({"dropout": 1.0}, r"dropout must be a probability in \[0, 1\), got 1.0"),
    ({"dropout": -0.1}, "dropout must be a probability"),
    ({"dropout": True}, "dropout must be a probability"),
    ({"dropout": "0.5"}, "dropout must be a probability"),
    ({"dropout": float("nan")}, "dropout must be a probability"),
]


@pytest.mark.parametrize("kwargs, match", BAD_MODEL, ids=[str(i) for i in range(len(BAD_MODEL))])
def test_model_rejects_bad_arguments_naming_them(kwargs, match):
    kwargs = {"sizes": [3, 4, 2], **kwargs}
    with pytest.raises(ValueError, match=match):
        MLP(**kwargs)


def test_model_rejects_an_unknown_init_naming_it():
    with pytest.raises(ValueError, match="init must be"):
        MLP([3, 4, 2], init="glorot")


def test_forward_and_backward_reject_bad_input():
    model = MLP([3, 4, 2])
    with pytest.raises(RuntimeError, match=r"call forward\(x\) before backward\(dlogits\)"):
        model.backward(np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"x must have shape \(B, 3\), got \(2, 4\)"):
        model.forward(np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"x must have shape \(B, 3\), got \(3,\)"):
        model.forward(np.ones(3))
    model.forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"dout must have the forward output's shape \(2, 2\)"):
        model.backward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"labels must be class indices in \[0, 2\)"):
        model.loss(np.ones((2, 3)), np.array([0, 2]))


def fit_args(**overrides):
    x, y = toy_problem(8)
    model = MLP([2, 3, 2])
    args = {"model": model, "optimizer": SGD(model.params, lr=0.1), "x": x, "y": y,
            "epochs": 1}
    return {**args, **overrides}


@pytest.mark.parametrize("overrides, match", [
    ({"y": np.zeros(7, dtype=int)}, "x and y must have the same length, got 8 and 7"),
    ({"batch_size": 0}, "batch_size must be a positive integer, got 0"),
    ({"batch_size": 2.5}, "batch_size must be a positive integer, got 2.5"),
    ({"batch_size": True}, "batch_size must be a positive integer, got True"),
    ({"x": np.ones((8, 3))}, r"x must have shape \(B, 2\), got \(8, 3\)"),
])
def test_fit_rejects_bad_input_naming_the_argument(overrides, match):
    with pytest.raises(ValueError, match=match):
        fit(**fit_args(**overrides))


@pytest.mark.parametrize("epochs", [0, -1, 2.5])
def test_fit_rejects_a_bad_epoch_count_naming_it(epochs):
    with pytest.raises(ValueError, match="epochs must be"):
        fit(**fit_args(epochs=epochs))


def test_fit_rejects_empty_data_naming_it():
    args = fit_args()
    with pytest.raises(ValueError, match="x must"):
        fit(**{**args, "x": args["x"][:0], "y": args["y"][:0]})


def test_evaluate_is_the_cross_entropy_and_inf_once_diverged():
    from nnlib.losses import cross_entropy

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((6, 3)), np.array([0, 1, 2, 0, 1, 2])
    model = MLP([3, 5, 3], dropout=0.5, seed=0)
    assert model.evaluate(x, y) == cross_entropy(model.forward(x, train=False), y)[0]
    model.params["w1"][:] = np.inf
    assert model.evaluate(x, y) == np.inf
