"""nnlib.models.training: the course's one torch training loop (seeded, reports progress,
stops on divergence or a solved task, refuses bad arguments) and its augmentation."""

import numpy as np
import pytest
import torch

from nnlib.convnet import NumpyCNN
from nnlib.models.cnn import build_cnn
from nnlib.models.training import accuracy, horizontal_flip, predict_proba, train_classifier


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
