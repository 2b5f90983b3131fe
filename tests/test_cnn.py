"""nnlib.convnet (the numpy CNN against an equal torch network), nnlib.models.cnn (the torch
builders, feature maps, occlusion) and nnlib.models.training (the torch training loop)."""

import numpy as np
import pytest
import torch
from torch import nn

from nnlib.convnet import NumpyCNN
from nnlib.losses import cross_entropy
from nnlib.mlp import fit
from nnlib.models.cnn import build_cnn, build_mlp, count_parameters, feature_maps, occlusion_map
from nnlib.models.training import accuracy, horizontal_flip, predict_proba, train_classifier
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


# ------------------------------------------------------------------ torch models
def test_build_cnn_shapes_and_parameter_counts():
    model = build_cnn(channels=(8, 32), hidden=128, batchnorm=False)
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    # conv1 8*9+8, conv2 32*8*9+32, dense 32*7*7*128+128, output 128*10+10
    assert count_parameters(model) == 80 + 2336 + 200_832 + 1290
    with_bn = build_cnn(channels=(8, 32), hidden=128)
    assert count_parameters(with_bn) == count_parameters(model) + 2 * 32  # after conv 2 only
    assert build_cnn(channels=(4, 4, 4), image_size=16)(torch.zeros(1, 1, 16, 16)).shape == (1, 10)
    with pytest.raises(ValueError, match="image_size must be a multiple of 8"):
        build_cnn(channels=(4, 4, 4), image_size=28)
    mlp = build_mlp((784, 256, 128, 10))
    assert count_parameters(mlp) == 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10
    assert count_parameters(NumpyCNN((8, 16))) == 80 + 1168 + 784 * 10 + 10


def test_builders_are_seeded():
    a, b, c = build_cnn(seed=3), build_cnn(seed=3), build_cnn(seed=4)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)
    assert not torch.equal(next(a.parameters()), next(c.parameters()))


def toy_images(n=256, seed=0):
    """A class per quadrant that holds a bright square: easy for a CNN."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    x = rng.normal(0, 0.2, (n, 1, 8, 8)).astype(np.float32)
    for k, (r, c) in enumerate([(0, 0), (0, 4), (4, 0), (4, 4)]):
        x[y == k, 0, r:r + 4, c:c + 4] += 1.0
    return x, y


def test_train_classifier_learns_repeats_exactly_and_reports_progress():
    x, y = toy_images()
    updates = []

    class Recorder:
        def update(self, step, **metrics):
            updates.append((step, sorted(metrics)))

    results = []
    for _ in range(2):
        model = build_cnn(channels=(4, 8), hidden=16, image_size=8, classes=4, seed=0)
        results.append(train_classifier(model, x, y, epochs=3, batch_size=32, lr=0.01,
                                        x_val=x, y_val=y, seed=0, device="cpu",
                                        progress=Recorder()))
    first, second = results
    assert first.train_loss == second.train_loss and first.val_accuracy == second.val_accuracy
    assert first.val_accuracy[-1] == 1.0 and first.train_loss[-1] < first.train_loss[0] / 2
    assert first.steps == 3 * 8 and not first.diverged
    assert accuracy(model, x, y) == 1.0
    probs = predict_proba(model, x[:5])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)
    epoch_ends = [u for u in updates[:len(updates) // 2] if float(u[0]).is_integer()]
    assert [u[0] for u in epoch_ends] == [1, 2, 3]
    assert all(u[1] == ["test loss", "train loss"] for u in epoch_ends)
    assert len(updates) > 2 * 3  # the training loss also arrives within epochs


def test_train_classifier_reports_divergence():
    x, y = toy_images(64)
    model = build_cnn(channels=(2, 2), hidden=4, image_size=8, classes=4, batchnorm=False)
    result = train_classifier(model, np.full_like(x, np.inf), y, epochs=2, device="cpu")
    assert result.diverged


def test_horizontal_flip_mirrors_about_half_the_images():
    x = torch.arange(1000 * 4, dtype=torch.float32).reshape(1000, 1, 2, 2)
    out = horizontal_flip(x, torch.Generator().manual_seed(0))
    flipped = (out != x).flatten(1).any(1)
    assert torch.equal(out[flipped], x[flipped].flip(-1)) and 400 < flipped.sum() < 600


@pytest.mark.parametrize("kwargs, error, message", [
    ({"epochs": 0}, ValueError, "epochs must be a positive integer, got 0"),
    ({"epochs": 1, "batch_size": 0}, ValueError, "batch_size must be a positive integer"),
    ({"epochs": 1, "lr": -1.0}, ValueError, "lr must be a positive number"),
    ({"epochs": 1, "x_val": np.zeros((2, 1, 8, 8))}, ValueError, "pass both x_val and y_val"),
    ({"epochs": 1, "x_val": np.zeros((3, 1, 8, 8)), "y_val": np.zeros(2, int)}, ValueError,
     "x_val and y_val must have the same length, got 3 and 2"),
])
def test_train_classifier_rejects_bad_arguments(kwargs, error, message):
    x, y = toy_images(16)
    model = build_cnn(channels=(2, 2), hidden=4, image_size=8, classes=4)
    with pytest.raises(error, match=message):
        train_classifier(model, x, y, **kwargs)


def test_train_classifier_rejects_bad_data():
    model = build_cnn(channels=(2, 2), hidden=4, image_size=8, classes=4)
    x, y = toy_images(16)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        train_classifier(NumpyCNN(image_size=8), x, y, epochs=1)
    with pytest.raises(TypeError, match=r"y_train must hold integers \(class labels"):
        train_classifier(model, x, y.astype(float), epochs=1)
    with pytest.raises(ValueError, match="x_train and y_train must have the same length"):
        train_classifier(model, x, y[:3], epochs=1)


# ------------------------------------------------------------------ looking inside
def test_feature_maps_are_the_conv_blocks_outputs_after_relu():
    model = build_cnn(channels=(3, 5), hidden=8, seed=0).eval()
    image = np.random.default_rng(0).random((28, 28)).astype(np.float32)
    maps = feature_maps(model, image)
    assert [m.shape for m in maps] == [(3, 28, 28), (5, 14, 14)]
    assert all((m >= 0).all() for m in maps)
    x = torch.tensor(image).reshape(1, 1, 28, 28)
    with torch.no_grad():
        np.testing.assert_allclose(maps[0], model[:2](x)[0].numpy(), rtol=1e-6)  # conv, ReLU


def test_occlusion_map_hides_the_patch_at_every_position():
    model = build_cnn(channels=(2, 2), hidden=4, seed=0).eval()
    image = np.random.default_rng(1).random((28, 28)).astype(np.float32)
    probs, corners = occlusion_map(model, image, label=3, patch=8, stride=4)
    assert corners.tolist() == [0, 4, 8, 12, 16, 20] and probs.shape == (6, 6)
    hidden = image.copy()
    hidden[4:12, 16:24] = 0.0
    expected = predict_proba(model, hidden[None, None])[0, 3]
    assert probs[1, 4] == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match="patch must be between 1 and the image size 28"):
        occlusion_map(model, image, 0, patch=30)


def test_train_classifier_keeps_a_loss_curve_and_can_report_in_steps():
    x, y = toy_images()
    steps_seen = []

    class Recorder:
        def update(self, step, **metrics):
            steps_seen.append(step)

    model = build_cnn(channels=(4, 8), hidden=16, image_size=8, classes=4, seed=0)
    result = train_classifier(model, x, y, epochs=2, batch_size=32, seed=0, device="cpu",
                              progress=Recorder(), progress_in_steps=True, updates_per_epoch=4)
    assert steps_seen == [2, 4, 6, 8, 10, 12, 14, 16]  # optimizer steps, 8 per epoch
    assert [s for s, _ in result.curve] == steps_seen
    assert result.curve[-1][1] < result.curve[0][1]


def test_train_classifier_stops_early_once_the_loss_is_below_stop_loss():
    x, y = toy_images()
    model = build_cnn(channels=(4, 8), hidden=16, image_size=8, classes=4, seed=0)
    full = train_classifier(model, x, y, epochs=20, batch_size=32, lr=0.01, seed=0,
                            device="cpu", updates_per_epoch=4)
    model = build_cnn(channels=(4, 8), hidden=16, image_size=8, classes=4, seed=0)
    early = train_classifier(model, x, y, epochs=20, batch_size=32, lr=0.01, seed=0,
                             device="cpu", updates_per_epoch=4, stop_loss=0.05)
    assert early.steps < full.steps == 20 * 8
    assert early.curve[-1][1] < 0.05 <= min(loss for _, loss in early.curve[:-1])
    assert early.curve[-1][0] == early.steps and len(early.train_loss) == -(-early.steps // 8)
