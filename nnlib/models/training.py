"""Training torch classifiers: one seeded, device-agnostic loop with a live progress display.

The numpy notebooks train with ``nnlib.mlp.fit``; from notebook 07 on, the
networks are torch modules and train here::

    model = nnlib.models.cnn.build_cnn()
    result = train_classifier(model, x_train, y_train, epochs=8,
                              x_val=x_test, y_val=y_test,
                              progress=TrainingMonitor(8, "CNN"))
    result.val_accuracy[-1]

The loop is the one every torch program has (shuffle, forward, loss,
``zero_grad``, backward, step), with Adam and a one-cycle learning-rate
schedule: the rate warms up for the first 30% of the steps, then anneals to
almost zero, which gets most out of a few epochs. Everything random is seeded
(weights by the caller, shuffling, dropout, augmentation), so a run on the
same machine repeats exactly. The model runs on CUDA when there is a GPU and on
the CPU otherwise; arrays go in and come out as numpy.
"""

import math
import time
from typing import NamedTuple

import numpy as np

from nnlib.checks import check_positive_int

__all__ = ["default_device", "resolve_device", "seed_everything", "TrainResult",
           "train_classifier",
           "predict_proba", "accuracy", "horizontal_flip"]


def default_device():
    """``cuda`` when a GPU is available, else ``cpu``."""
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def resolve_device(device=None):
    """``torch.device(device)``, or ``default_device()`` when ``device`` is None."""
    import torch

    return torch.device(device) if device is not None else default_device()


def seed_everything(seed):
    """Seed torch (CPU and every GPU) and return a ``torch.Generator`` for shuffling."""
    import torch

    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


class TrainResult(NamedTuple):
    train_loss: list  # per epoch, mean over the epoch's mini-batches
    val_loss: list  # per epoch (empty without validation data)
    val_accuracy: list
    seconds: float  # wall time of the whole loop
    steps: int  # optimizer steps taken
    diverged: bool  # the loss became inf or NaN (training stopped there)
    curve: list  # (step, mean training loss since the previous point), a few points per epoch


def horizontal_flip(x, generator):
    """Augmentation: mirror each image left-right with probability 1/2 (for clothes, not digits)."""
    import torch

    flip = torch.rand(len(x), generator=generator) < 0.5
    return torch.where(flip.view(-1, *[1] * (x.ndim - 1)).to(x.device), x.flip(-1), x)


def _as_tensor(x, name, dtype, device):
    import torch

    try:
        array = np.asarray(x)
    except ValueError as err:
        raise ValueError(f"{name} must be a rectangular array: {err}") from None
    if dtype.is_floating_point and array.dtype.kind not in "fiu":
        raise TypeError(f"{name} must hold real numbers, got dtype {array.dtype}")
    if not dtype.is_floating_point and array.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integers (class labels or token ids), "
                        f"got dtype {array.dtype}")
    return torch.as_tensor(array, dtype=dtype).to(device)


def _input_dtype(model):
    """Token ids for a model that starts with an embedding, else the parameters' float type."""
    import torch

    if any(isinstance(m, torch.nn.Embedding) for m in model.modules()):
        return torch.int64
    return next(model.parameters()).dtype


def _check_data(x, y, name, regression=False):
    if len(x) != len(y):
        raise ValueError(f"x_{name} and y_{name} must have the same length, "
                         f"got {len(x)} and {len(y)}")
    if len(x) == 0:
        raise ValueError(f"x_{name} must hold at least one example, got an empty array")
    if y.ndim not in (1, 2) and not regression:
        raise ValueError(f"y_{name} must hold class labels, (N,) or one per step (N, T), "
                         f"got shape {tuple(y.shape)}")


def _loss(logits, y, reduction="mean"):
    """Cross-entropy for logits ``(B, K)`` with labels ``(B,)`` or ``(B, T, K)`` with ``(B, T)``."""
    import torch.nn.functional as F

    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1),
                           reduction=reduction)


def _mse(prediction, y, reduction="mean"):
    """Mean squared error of a regression (targets the shape of the predictions)."""
    import torch.nn.functional as F

    return F.mse_loss(prediction, y, reduction=reduction)


# The losses train_classifier can minimise: the targets' dtype follows from the loss.
LOSSES = {"cross_entropy": _loss, "mse": _mse}
SCHEDULES = ("one-cycle", "constant")


def train_classifier(model, x_train, y_train, *, epochs, batch_size=64, lr=2e-3,
                     weight_decay=0.0, x_val=None, y_val=None, augment=None, seed=0,
                     device=None, progress=None, val_name="test", updates_per_epoch=10,
                     clip_grad_norm=None, progress_in_steps=False, stop_loss=None,
                     loss="cross_entropy", schedule="one-cycle"):
    """Train ``model`` with Adam and a one-cycle schedule: the course's one torch training loop.

    Every torch model of the course trains here: the classifiers and character models
    (cross-entropy on logits), the forecasters (``loss="mse"``), the GAN notebook's digit
    classifier (``schedule="constant"``). Only the GAN itself, a two-player game, has its
    own loop (``nnlib.models.gan.GAN.step``).

    Args:
        model: a ``torch.nn.Module`` mapping a batch of ``x`` to logits ``(B, K)``,
            or to one set of logits per time step ``(B, T, K)`` for labels ``(B, T)``
            (a character model: the loss is the mean over every step).
        x_train, y_train: inputs (any shape the model takes, batch first) and
            integer labels, numpy arrays or tensors.
        epochs: passes over the training data.
        batch_size, lr, weight_decay: mini-batch size, peak learning rate of the
            one-cycle schedule, and Adam's L2 weight decay.
        x_val, y_val: evaluated after every epoch (loss and accuracy).
        augment: ``augment(x_batch, generator) -> x_batch`` applied to training
            batches only, e.g. ``horizontal_flip``.
        seed: seeds the shuffling, dropout and augmentation (seed the weights
            when you build the model).
        device: where to train; ``None`` picks ``default_device()``.
        progress: a ``nnlib.display.widgets.TrainingMonitor(epochs, ...)`` (or anything
            with ``update(epoch, **metrics)``): the training loss a few times
            per epoch (``updates_per_epoch``), the validation loss each epoch.
        stop_loss: stop early once the mean training loss between two reports
            (``updates_per_epoch`` per epoch) falls below this: the task is solved,
            further steps would only cost time. ``None`` trains to the end.
        progress_in_steps: report optimizer steps instead of (fractional) epochs
            to ``progress`` (for a single pass over fresh data: a
            ``TrainingMonitor(total_steps, xlabel="step")``).
        clip_grad_norm: rescale the gradient when its norm exceeds this (recurrent
            networks: one exploding step must not wreck the weights).
        loss: ``"cross_entropy"`` (integer labels; the default) or ``"mse"`` (float
            targets shaped like the model's output, a regression).
        schedule: ``"one-cycle"`` (warm up to ``lr``, then anneal to almost zero) or
            ``"constant"`` (``lr`` throughout).

    Returns:
        a ``TrainResult``. The model is left in eval mode on ``device``.
    """
    import torch

    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    epochs = check_positive_int("epochs", epochs)
    batch_size = check_positive_int("batch_size", batch_size)
    if not (isinstance(lr, int | float) and not isinstance(lr, bool) and lr > 0):
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    if (x_val is None) != (y_val is None):
        raise ValueError("pass both x_val and y_val (or neither)")
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {tuple(LOSSES)}, got {loss!r}")
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    loss_name, loss_fn, regression = loss, LOSSES[loss], loss != "cross_entropy"
    device = resolve_device(device)
    dtype = _input_dtype(model)
    target_dtype = torch.float32 if regression else torch.int64
    x = _as_tensor(x_train, "x_train", dtype, device)
    y = _as_tensor(y_train, "y_train", target_dtype, device)
    _check_data(x, y, "train", regression)
    if x_val is not None:
        if regression:
            raise ValueError(f"x_val and y_val are for classifiers; loss={loss_name!r} "
                             f"has no accuracy to report")
        xv = _as_tensor(x_val, "x_val", dtype, device)
        yv = _as_tensor(y_val, "y_val", torch.int64, device)
        _check_data(xv, yv, "val")

    generator = seed_everything(seed)
    model.to(device)
    if x.ndim == 4:  # images: the layout that convolutions run fastest in, on CPU and GPU
        model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    batches = math.ceil(len(x) / batch_size)
    scheduler = None if schedule == "constant" else torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=lr, total_steps=epochs * batches)
    report_every = max(1, batches // max(1, updates_per_epoch))
    result = TrainResult([], [], [], 0.0, 0, False, [])
    start, steps = time.perf_counter(), 0
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(x), generator=generator).to(device)
        total, recent, stopped = 0.0, [], False
        for b in range(batches):
            batch = order[b * batch_size:(b + 1) * batch_size]
            xb = x[batch] if augment is None else augment(x[batch], generator)
            batch_loss = loss_fn(model(xb), y[batch])
            optimizer.zero_grad()
            batch_loss.backward()
            if clip_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            steps += 1
            value = batch_loss.item()
            total += value * len(batch)
            recent.append(value)
            if not math.isfinite(value):
                break
            if (b + 1) % report_every == 0 and b + 1 < batches:
                result.curve.append((steps, float(np.mean(recent))))
                if progress is not None:
                    progress.update(steps if progress_in_steps else epoch + (b + 1) / batches,
                                    **{"train loss": result.curve[-1][1]})
                recent = []
                if stop_loss is not None and result.curve[-1][1] < stop_loss:
                    stopped = True  # solved: the rest of the budget would only cost time
                    break
        seen = min(len(x), (b + 1) * batch_size)
        result.train_loss.append(total / seen)
        metrics = {"train loss": np.mean(recent) if recent else result.curve[-1][1]}
        if not stopped:
            result.curve.append((steps, float(metrics["train loss"])))
        if x_val is not None:
            val_loss, val_acc = _evaluate(model, xv, yv, batch_size=1000)
            result.val_loss.append(val_loss)
            result.val_accuracy.append(val_acc)
            metrics[f"{val_name} loss"] = val_loss
        if progress is not None:
            progress.update(steps if progress_in_steps else epoch + 1, **metrics)
        if not math.isfinite(result.train_loss[-1]) or stopped:
            break
    model.eval()
    if progress is not None and hasattr(progress, "finish"):
        progress.finish()
    return result._replace(seconds=time.perf_counter() - start, steps=steps,
                           diverged=not math.isfinite(result.train_loss[-1]))


def _evaluate(model, x, y, batch_size):
    """Mean cross-entropy and accuracy over every label (every step, for sequences)."""
    import torch

    model.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            logits, labels = model(x[i:i + batch_size]), y[i:i + batch_size]
            loss += _loss(logits, labels, reduction="sum").item()
            correct += (logits.argmax(-1) == labels).sum().item()
    return loss / y.numel(), correct / y.numel()


def predict_proba(model, x, batch_size=1000):
    """Class probabilities ``(N, K)`` (or ``(N, T, K)``) as a numpy array (eval mode, no grad)."""
    import torch

    param = next(model.parameters())
    x = _as_tensor(x, "x", _input_dtype(model), param.device)
    model.eval()
    with torch.no_grad():
        out = [torch.softmax(model(x[i:i + batch_size]), dim=-1)
               for i in range(0, len(x), batch_size)]
    return torch.cat(out).cpu().numpy()


def accuracy(model, x, y, batch_size=1000):
    """The fraction of ``x`` whose most probable class is ``y``."""
    return float(np.mean(predict_proba(model, x, batch_size).argmax(-1) == np.asarray(y)))
