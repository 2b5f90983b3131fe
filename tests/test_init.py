import numpy as np
import pytest
import torch

from nnlib.init import INIT_SCHEMES, init_std, init_weights, signal_propagation


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "gelu", "leaky_relu"])
def test_signal_propagation_gradients_equal_torch(activation):
    stats = signal_propagation(4, 6, activation, "xavier", batch=5, seed=3)
    rng = np.random.default_rng(3)
    h0 = rng.standard_normal((5, 6))
    ws = [torch.tensor(w, requires_grad=True) for w in stats.weights]
    fn = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
          "gelu": torch.nn.functional.gelu,
          "leaky_relu": torch.nn.functional.leaky_relu}[activation]
    h = torch.tensor(h0)
    for w in ws:
        h = fn(h @ w)
    for _ in ws:  # the weights consumed the same generator: replay it to reach dh
        init_weights(6, 6, "xavier", rng)
    upstream = torch.tensor(rng.standard_normal((5, 6)))
    np.testing.assert_allclose(h.detach().numpy(), stats.activations[-1], rtol=1e-10, atol=1e-12)
    h.backward(upstream)
    for layer, w in enumerate(ws):
        np.testing.assert_allclose(stats.weight_grads[layer], w.grad.numpy(), rtol=1e-10,
                                   atol=1e-12, err_msg=f"layer {layer}")


def test_schemes_have_their_standard_deviations():
    rng = np.random.default_rng(0)
    for scheme, expected in [("xavier", np.sqrt(2 / 600)), ("he", np.sqrt(2 / 400)),
                             ("small", 0.01), ("standard normal", 1.0)]:
        w = init_weights(400, 200, scheme, rng)
        assert w.shape == (400, 200)
        assert init_std(400, 200, scheme) == pytest.approx(expected)
        assert w.std() == pytest.approx(expected, rel=0.02)
    assert set(INIT_SCHEMES) == {"standard normal", "small", "xavier", "he"}


def test_he_keeps_relu_activations_steady_and_small_init_kills_them():
    he = signal_propagation(20, 256, "relu", "he", seed=1)
    ratios = [np.sqrt(np.mean(h**2)) for h in he.activations]
    assert 0.3 < ratios[-1] / ratios[0] < 3
    small = signal_propagation(20, 256, "relu", "small", seed=1)
    assert np.abs(small.activations[-1]).max() < 1e-15


@pytest.mark.parametrize("kwargs, match", [
    ({"scheme": "uniform"}, "scheme must be one of"),
    ({"activation": "swish"}, "activation must be one of"),
    ({"depth": 0}, "depth must be a positive integer"),
])
def test_rejects_bad_arguments(kwargs, match):
    args = {"depth": 3, "width": 4, "activation": "relu", "scheme": "he"} | kwargs
    with pytest.raises(ValueError, match=match):
        signal_propagation(**args)
