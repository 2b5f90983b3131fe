"""nnlib.convnet: the numpy CNN against an equal torch network, forward and every gradient,
by finite differences, trained with nnlib.mlp.fit, and its bad input."""

import numpy as np
import pytest
import torch
from torch import nn

from nnlib.convnet import NumpyCNN
from nnlib.losses import cross_entropy
from nnlib.mlp import fit
from nnlib.optim import Adam


def torch_twin(model):
    """The NumpyCNN's network in torch (float64), with the same weights."""
    p = {k: torch.tensor(v) for k, v in model.params.items()}
    f1, f2 = p["conv1.w"].shape[0], p["conv2.w"].shape[0]
    net = nn.Sequential(nn.Conv2d(1, f1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(f1, f2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(p["fc.w"].shape[0], p["fc.w"].shape[1])).double()
    with torch.no_grad():
        net[0].weight.copy_(p["conv1.w"]), net[0].bias.copy_(p["conv1.b"])
        net[3].weight.copy_(p["conv2.w"]), net[3].bias.copy_(p["conv2.b"])
        net[7].weight.copy_(p["fc.w"].T), net[7].bias.copy_(p["fc.b"])
    return net


@pytest.mark.parametrize("channels, size, batch",
                         [((8, 16), 28, 5), ((2, 3), 8, 1), ((4, 4), 12, 3)])
def test_numpy_cnn_matches_torch_forward_and_every_gradient(channels, size, batch):
    model = NumpyCNN(channels, image_size=size, seed=1)
    for k in model.params:  # non-zero biases, so that a missing bias gradient shows
        if k.endswith(".b"):
            model.params[k] += np.random.default_rng(2).standard_normal(model.params[k].shape)
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((batch, size, size)), rng.integers(0, 10, batch)
    loss, grads = model.loss(x, y)
    net = torch_twin(model)
    logits = net(torch.tensor(x[:, None]))
    ref = nn.functional.cross_entropy(logits, torch.tensor(y))
    ref.backward()
    assert loss == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(model.forward(x), logits.detach().numpy(), rtol=1e-10, atol=1e-12)
    torch_grads = {"conv1.w": net[0].weight.grad, "conv1.b": net[0].bias.grad,
                   "conv2.w": net[3].weight.grad, "conv2.b": net[3].bias.grad,
                   "fc.w": net[7].weight.grad.T, "fc.b": net[7].bias.grad}
    assert grads.keys() == model.params.keys()
    for k, g in grads.items():
        np.testing.assert_allclose(g, torch_grads[k].numpy(), rtol=1e-10, atol=1e-12, err_msg=k)


def test_numpy_cnn_gradient_matches_finite_differences_on_a_few_weights():
    model = NumpyCNN((2, 2), image_size=8, seed=0)
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((2, 8, 8)), np.array([1, 7])
    _, grads = model.loss(x, y)
    for name in ("conv1.w", "conv2.b", "fc.w"):
        flat = model.params[name].reshape(-1)
        for i in rng.choice(flat.size, size=min(4, flat.size), replace=False):
            old = flat[i]
            flat[i] = old + 1e-6
            up = cross_entropy(model.forward(x), y)[0]
            flat[i] = old - 1e-6
            down = cross_entropy(model.forward(x), y)[0]
            flat[i] = old
            assert grads[name].reshape(-1)[i] == pytest.approx((up - down) / 2e-6, rel=1e-5,
                                                                abs=1e-8)


def test_numpy_cnn_trains_with_fit_and_an_nnlib_optimizer():
    rng = np.random.default_rng(0)
    # two classes: a bright top half or a bright bottom half, plus noise
    y = rng.integers(0, 2, 64)
    x = rng.normal(0, 0.3, (64, 8, 8))
    x[y == 0, :4] += 1.0
    x[y == 1, 4:] += 1.0
    model = NumpyCNN((2, 4), image_size=8, classes=2, seed=0)
    before = model.evaluate(x, y)
    history = fit(model, Adam(model.params, lr=0.01), x, y, epochs=5, batch_size=16, x_val=x,
                  y_val=y)
    assert history.val_loss[-1] < before / 5 and model.accuracy(x, y) >= 0.95


def test_numpy_cnn_rejects_bad_input():
    model = NumpyCNN(image_size=8)
    with pytest.raises(ValueError, match=r"x must hold images \(B, 1, 8, 8\) or \(B, 8, 8\)"):
        model.forward(np.ones((2, 28, 28)))
    with pytest.raises(ValueError, match="image_size must be a multiple of 4"):
        NumpyCNN(image_size=10)
    with pytest.raises(RuntimeError, match="call forward"):
        NumpyCNN(image_size=8).backward(np.ones((1, 10)))
