"""Solutions to the exercises of notebooks/06_regularization.ipynb. Try them yourself first!"""

import numpy as np


def dropout_forward(x, p, u):
    # Keep a unit where its uniform number u >= p (probability 1 - p), and scale it by
    # 1/(1-p) so that its expected value stays x: nothing needs rescaling at test time.
    return np.where(u >= p, x / (1 - p), 0.0)


def l1_subgradient(w, strength):
    # d/dw of strength * |w| is strength * sign(w) (and 0 at w = 0, as torch does).
    return strength * np.sign(w)


def early_stopping_epoch(val_losses, patience):
    best, best_epoch = float("inf"), -1
    for epoch, loss in enumerate(val_losses):
        if loss < best:
            best, best_epoch = loss, epoch
        elif epoch - best_epoch >= patience:  # `patience` epochs without a new best
            return epoch, best_epoch
    return len(val_losses) - 1, best_epoch
