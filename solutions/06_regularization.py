"""Solutions to the exercises of notebooks/06_regularization.ipynb. Try them yourself first!"""

import numpy as np

from nnlib.optim import SGD


def l1_subgradient(w, strength):
    # d/dw of strength * |w| is strength * sign(w) (and 0 at w = 0, as torch does).
    return strength * np.sign(w)


def dropout_forward(x, p, u):
    # Keep a unit where its uniform number u >= p (probability 1 - p), and scale it by
    # 1/(1-p) so that its expected value stays x: nothing needs rescaling at test time.
    return np.where(u >= p, x / (1 - p), 0.0)


def dropout_backward(dout, keep, p):
    # The forward pass is out = x * keep / (1-p): each output depends on its own input only,
    # with slope 1/(1-p) where the unit was kept and 0 where it was dropped. The chain rule
    # multiplies dout by that slope, with the same mask the forward pass drew.
    return np.where(keep, dout / (1 - p), 0.0)


def early_stopping_epoch(val_losses, patience):
    best, best_epoch = float("inf"), -1
    for epoch, loss in enumerate(val_losses):
        if loss < best:
            best, best_epoch = loss, epoch
        elif epoch - best_epoch >= patience:  # `patience` epochs without a new best
            return epoch, best_epoch
    return len(val_losses) - 1, best_epoch


def overfit_small_batch(model, x, y, n, threshold, max_steps):
    x_small, y_small = x[:n], y[:n]  # the same few examples at every step
    # Plain settings that train section 1's network; Adam(model.params, lr=0.01) works too.
    # No penalty and no dropout: they fight memorising, and memorising is the test.
    optimizer = SGD(model.params, lr=0.1, momentum=0.9)
    history = []
    for _ in range(max_steps):
        loss, grads = model.loss(x_small, y_small)  # the loss before this step, and its gradient
        history.append(loss)  # record first, so the history ends with the loss that passed
        if loss < threshold:
            break
        optimizer.step(grads)  # without this the weights never move
    return history
