"""Over-fitting experiments for the regularization notebook, in numpy.

``overfit_experiment`` trains a too-big network on a small, noisy training set
(the setting where regularization matters) and reports the train/validation
gap; notebook 06 asserts its claims with it and tests/test_claims_regularization.py
checks that they hold for several seeds. ``near_zero_share`` measures how many
weights a penalty has (almost) pruned.
"""

from typing import NamedTuple

import numpy as np

from nnlib.data.toy import playground_data
from nnlib.mlp import MLP, fit
from nnlib.optim import SGD

__all__ = ["overfit_experiment", "OverfitResult", "weights_of", "near_zero_share", "NEAR_ZERO"]

NEAR_ZERO = 0.01  # a weight this small barely changes a unit's input: effectively pruned


class OverfitResult(NamedTuple):
    model: MLP
    train_loss: float  # final, on the whole training set, without dropout
    val_loss: float
    val_accuracy: float
    history: object  # nnlib.mlp.History, per epoch

    @property
    def gap(self):
        """Validation loss minus training loss: how much worse on unseen points."""
        return self.val_loss - self.train_loss


def overfit_experiment(seed=0, l1=0.0, l2=0.0, dropout=0.0, epochs=300, dataset="moons",
                       noise=0.25, n_train=40, n_val=400, width=64, lr=0.1):
    """Train ``MLP([2, width, width, 2])`` (ReLU) on ``n_train`` noisy points of two moons.

    Full-batch SGD with momentum 0.9, one step per epoch (plain SGD keeps the
    classic picture of the penalties; Adam rescales each weight's step, which
    blurs the difference between L1 and L2). ``seed`` picks both the data and
    the initialization. Returns an ``OverfitResult``.
    """
    X, y = playground_data(dataset, noise, n=n_train + n_val, seed=seed)
    x_train, y_train, x_val, y_val = X[:n_train], y[:n_train], X[n_train:], y[n_train:]
    model = MLP([2, width, width, 2], activation="relu", dropout=dropout, seed=seed)
    history = fit(model, SGD(model.params, lr=lr, momentum=0.9), x_train, y_train, epochs=epochs,
                  batch_size=n_train, x_val=x_val, y_val=y_val, l1=l1, l2=l2, seed=seed)
    train_loss = model.evaluate(x_train, y_train)
    return OverfitResult(model, train_loss, history.val_loss[-1], history.val_accuracy[-1],
                         history)


def weights_of(model):
    """All weight matrices' entries (biases left out) as one flat array."""
    return np.concatenate([p.ravel() for k, p in model.params.items() if k.startswith("w")])


def near_zero_share(model, threshold=NEAR_ZERO):
    """The share of weights with ``|w| < threshold``."""
    return float(np.mean(np.abs(weights_of(model)) < threshold))
