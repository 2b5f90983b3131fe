"""Layers as forward/backward function pairs, in numpy.

``*_forward(...)`` returns ``(out, cache)``; ``*_backward(dout, cache)`` returns
the gradient of the loss with respect to each input, in argument order, given
``dout = dL/dout``. Pairs hold no state: parameters come in, gradients go out,
and a model (``nnlib.mlp.MLP``) or a training loop keeps them.

Each pair is tested against torch in float64 with a random upstream gradient
and against finite differences (tests/test_layers.py).
"""

import math
import numbers
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from nnlib.checks import as_float_array, check_float, check_int

__all__ = [
    "linear_forward", "linear_backward", "dropout_forward", "dropout_backward",
    "batchnorm_forward", "batchnorm_backward", "layernorm_forward", "layernorm_backward",
    "conv_output_size", "unseen_size", "im2col", "conv2d_forward", "conv2d_backward",
    "maxpool2d_forward", "maxpool2d_backward",
]


class LinearCache(NamedTuple):
    x: np.ndarray  # (B, D), the input
    w: np.ndarray  # (D, M)


def linear_forward(x, w, b):
    """A dense layer, ``out = x @ w + b``.

    Args:
        x: inputs ``(B, D)``.
        w: weights ``(D, M)``.
        b: biases ``(M,)``.

    Returns:
        ``out (B, M)`` and a cache for ``linear_backward``.
        Tested against ``torch.nn.functional.linear(x, w.T, b)``.
    """
    x, w, b = (as_float_array(a, name) for a, name in ((x, "x"), (w, "w"), (b, "b")))
    if w.ndim != 2:
        raise ValueError(f"w must be a (D, M) matrix, got shape {w.shape}")
    D, M = w.shape
    if x.ndim != 2 or x.shape[1] != D:
        raise ValueError(f"x must have shape (B, {D}) to match w of shape {w.shape}, "
                         f"got {x.shape}")
    if b.shape != (M,):
        raise ValueError(f"b must have shape ({M},) to match w of shape {w.shape}, got {b.shape}")
    return x @ w + b, LinearCache(x, w)


def linear_backward(dout, cache):
    """Gradients of a dense layer: ``dx = dout @ w.T``, ``dw = x.T @ dout``, ``db = sum_B dout``.

    Args:
        dout: ``dL/dout``, ``(B, M)``.
        cache: from ``linear_forward``.

    Returns:
        ``dx (B, D), dw (D, M), db (M,)``.
    """
    dout = as_float_array(dout, "dout")
    expected = (cache.x.shape[0], cache.w.shape[1])
    if dout.shape != expected:
        raise ValueError(f"dout must have the forward output's shape {expected}, got {dout.shape}")
    dx = dout @ cache.w.T  # each input feeds every output through its weight
    dw = cache.x.T @ dout  # summed over the batch: every example uses the same w
    db = dout.sum(axis=0)
    return dx, dw, db


class DropoutCache(NamedTuple):
    mask: np.ndarray | None  # kept units scaled by 1/(1-p), zeros elsewhere; None = identity
    shape: tuple  # the input's shape


def dropout_forward(x, p, rng, train=True):
    """Inverted dropout: zero each unit with probability ``p``, scale the rest by ``1/(1-p)``.

    The scaling keeps every unit's expected value unchanged, so at test time
    (``train=False``) the layer is the identity and nothing needs rescaling.

    Args:
        x: activations, any shape.
        p: drop probability in ``[0, 1)``.
        rng: a ``numpy.random.Generator`` (the source of the mask; seed it).
        train: ``False`` turns the layer into the identity.

    Returns:
        ``out`` shaped like ``x`` and a cache. Tested against
        ``torch.nn.functional.dropout`` given the same mask.
    """
    x = as_float_array(x, "x")
    if isinstance(p, bool) or not isinstance(p, int | float | np.floating) or not 0 <= p < 1:
        raise ValueError(f"p must be a drop probability in [0, 1), got {p!r}")
    if not train or p == 0:
        return x.copy(), DropoutCache(None, x.shape)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
                        f"got {type(rng).__name__}")
    mask = (rng.random(x.shape) >= p) / (1.0 - p)
    return x * mask, DropoutCache(mask, x.shape)


def dropout_backward(dout, cache):
    """``dx = dout * mask``: a dropped unit passes no gradient, a kept one is scaled alike."""
    dout = as_float_array(dout, "dout")
    if dout.shape != cache.shape:
        raise ValueError(f"dout must have the forward output's shape {cache.shape}, "
                         f"got {dout.shape}")
    return dout.copy() if cache.mask is None else dout * cache.mask


# --------------------------------------------------------------------------- batch norm


class BatchNormCache(NamedTuple):
    x_hat: np.ndarray  # the input normalised per feature (or per channel)
    inv_std: np.ndarray  # 1 / sqrt(var + eps), broadcastable to x: (1, D) or (1, C, 1, 1)
    gamma: np.ndarray  # broadcastable to x, like inv_std
    axes: tuple  # the axes the statistics are taken over: (0,) or (0, 2, 3)
    train: bool  # True: batch statistics (they depend on x); False: running ones (constants)


def _per_feature(x):
    """The statistics' axes and the broadcast shape of a per-feature vector for ``x``."""
    if x.ndim == 2:
        return (0,), (1, x.shape[1])
    if x.ndim == 4:
        return (0, 2, 3), (1, x.shape[1], 1, 1)
    raise ValueError(f"x must be (B, D) or (B, C, H, W), got shape {x.shape}")


def batchnorm_forward(x, gamma, beta, running_mean=None, running_var=None, momentum=0.1,
                      eps=1e-5, train=True):
    """Batch norm: each feature to mean 0 and variance 1 over the batch, then ``gamma * . + beta``.

    Training (``train=True``) normalises with the batch's own statistics, taken per
    feature over the ``N`` values that feature has in the batch (``N = B`` for
    ``(B, D)``, ``N = B*H*W`` per channel for images)::

        mu = mean(x),  var = mean((x - mu)**2),  x_hat = (x - mu) / sqrt(var + eps)

    and returns the running statistics updated for inference, as torch does:
    ``new_mean = (1 - momentum) * running_mean + momentum * mu`` and the same for the
    variance, which uses the unbiased ``var * N / (N - 1)`` there. Evaluation
    (``train=False``) normalises with the running statistics instead, so an example's
    output no longer depends on the rest of its batch.

    Args:
        x: ``(B, D)``, or ``(B, C, H, W)`` with statistics per channel.
        gamma, beta: ``(D,)`` or ``(C,)``, the learned scale and shift.
        running_mean, running_var: ``(D,)`` or ``(C,)``; never written in place. In
            training they may be ``None`` (nothing is tracked); evaluation needs them.
        momentum: the weight of the new batch in the running averages, in ``[0, 1]``.
        eps: added to the variance, a finite positive number.
        train: batch statistics (True) or running ones (False).

    Returns:
        ``(out, new_running_mean, new_running_var, cache)``: ``out`` shaped like ``x``; the
        running statistics are new arrays (in evaluation, copies of the ones given; ``None``
        when none were given). Tested against ``torch.nn.functional.batch_norm`` in both
        modes, running statistics included.
    """
    x, gamma, beta = (as_float_array(a, name)
                      for a, name in ((x, "x"), (gamma, "gamma"), (beta, "beta")))
    axes, shape = _per_feature(x)
    D = x.shape[1]
    for a, name in ((gamma, "gamma"), (beta, "beta")):
        if a.shape != (D,):
            raise ValueError(f"{name} must have shape ({D},), one entry per feature of x "
                             f"(shape {x.shape}), got {a.shape}")
    if (running_mean is None) != (running_var is None):
        raise ValueError("pass both running_mean and running_var, or neither")
    if running_mean is not None:
        running_mean, running_var = (as_float_array(a, name) for a, name in
                                     ((running_mean, "running_mean"), (running_var, "running_var")))
        for a, name in ((running_mean, "running_mean"), (running_var, "running_var")):
            if a.shape != (D,):
                raise ValueError(f"{name} must have shape ({D},), one entry per feature of x "
                                 f"(shape {x.shape}), got {a.shape}")
    momentum = check_float("momentum", momentum, 0.0)
    if momentum > 1:
        raise ValueError(f"momentum must be in [0, 1], got {momentum!r}")
    eps = check_float("eps", eps, 0.0, strict=True)
    if not isinstance(train, bool | np.bool_):
        raise TypeError(f"train must be True or False, got {train!r}")

    if train:
        N = x.size // D  # values per feature
        if N < 2:
            raise ValueError(f"training needs more than one value per feature to take a "
                             f"variance, got x of shape {x.shape}")
        mu = x.mean(axis=axes)
        centred = x - mu.reshape(shape)
        var = (centred ** 2).mean(axis=axes)
        if running_mean is not None:
            running_mean = (1 - momentum) * running_mean + momentum * mu
            running_var = (1 - momentum) * running_var + momentum * var * N / (N - 1)
    else:
        if running_mean is None:
            raise ValueError("evaluation (train=False) normalises with the running statistics: "
                             "pass running_mean and running_var")
        centred = x - running_mean.reshape(shape)
        var = running_var
        running_mean, running_var = running_mean.copy(), running_var.copy()
    if np.any(var + eps <= 0):
        raise ValueError("running_var + eps must be positive")
    inv_std = 1.0 / np.sqrt(var + eps).reshape(shape)
    x_hat = centred * inv_std
    out = x_hat * gamma.reshape(shape) + beta.reshape(shape)
    return out, running_mean, running_var, BatchNormCache(x_hat, inv_std, gamma.reshape(shape),
                                                          axes, bool(train))


def batchnorm_backward(dout, cache):
    """Gradients of batch norm, in training or in evaluation mode.

    With ``g = dout * gamma``: in evaluation the statistics are constants, so
    ``dx = g * inv_std``. In training the mean and the variance depend on every value
    of the feature, and their paths remove from ``g`` its mean and its component along
    ``x_hat`` (the means over the ``N`` values of each feature)::

        dx = inv_std * (g - mean(g) - x_hat * mean(g * x_hat))

    which is layer norm's formula with the batch in place of the row.
    ``dgamma = sum(dout * x_hat)`` and ``dbeta = sum(dout)`` per feature.

    Returns:
        ``dx`` shaped like ``x``, ``dgamma`` and ``dbeta`` of shape ``(D,)`` or ``(C,)``.
    """
    dout = as_float_array(dout, "dout")
    x_hat = cache.x_hat
    if dout.shape != x_hat.shape:
        raise ValueError(f"dout must have the forward output's shape {x_hat.shape}, "
                         f"got {dout.shape}")
    g = dout * cache.gamma
    if cache.train:
        dx = cache.inv_std * (g - g.mean(axis=cache.axes, keepdims=True)
                              - x_hat * (g * x_hat).mean(axis=cache.axes, keepdims=True))
    else:
        dx = g * cache.inv_std
    return dx, (dout * x_hat).sum(axis=cache.axes), dout.sum(axis=cache.axes)


# --------------------------------------------------------------------------- layer norm


class LayerNormCache(NamedTuple):
    x_hat: np.ndarray  # the input normalised over its last axis
    inv_std: np.ndarray  # 1 / sqrt(var + eps), one per row, with a trailing axis of 1
    gamma: np.ndarray  # (E,)


def layernorm_forward(x, gamma, beta, eps=1e-5):
    """Layer norm: each row (last axis) to mean 0 and variance 1, then ``gamma * . + beta``.

    ``x_hat = (x - mean) / sqrt(var + eps)`` with the mean and the (biased)
    variance taken over the last axis of each example and position alone: unlike
    batch norm, nothing depends on the other examples, so training and inference
    compute the same thing and a batch of one works.

    Args:
        x: ``(..., E)``.
        gamma, beta: ``(E,)``, the learned scale and shift.
        eps: added to the variance so a constant row does not divide by zero.

    Returns:
        ``out`` shaped like ``x`` and a cache. Tested against
        ``torch.nn.functional.layer_norm(x, (E,), gamma, beta, eps)``.
    """
    x, gamma, beta = (as_float_array(a, name)
                      for a, name in ((x, "x"), (gamma, "gamma"), (beta, "beta")))
    if x.ndim < 1:
        raise ValueError(f"x must have at least one axis (..., E), got shape {x.shape}")
    E = x.shape[-1]
    if E == 0:
        raise ValueError(f"x must have at least one feature on its last axis, got shape {x.shape}")
    for a, name in ((gamma, "gamma"), (beta, "beta")):
        if a.shape != (E,):
            raise ValueError(f"{name} must have shape ({E},) to match the last axis of x "
                             f"(shape {x.shape}), got {a.shape}")
    if (isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not math.isfinite(eps)
            or not eps > 0):
        raise ValueError(f"eps must be a finite positive number, got {eps!r}")
    centred = x - x.mean(axis=-1, keepdims=True)
    inv_std = 1.0 / np.sqrt((centred ** 2).mean(axis=-1, keepdims=True) + eps)
    x_hat = centred * inv_std
    return x_hat * gamma + beta, LayerNormCache(x_hat, inv_std, gamma)


def layernorm_backward(dout, cache):
    """Gradients of layer norm.

    With ``g = dout * gamma`` and ``E`` features per row, the normalisation's
    Jacobian removes from ``g`` its mean and its component along ``x_hat``::

        dx = inv_std * (g - mean(g) - x_hat * mean(g * x_hat))

    (the mean and the variance both depend on every input of the row).
    ``dgamma = sum(dout * x_hat)`` and ``dbeta = sum(dout)`` over every row.

    Returns:
        ``dx`` shaped like ``x``, ``dgamma (E,)``, ``dbeta (E,)``.
    """
    dout = as_float_array(dout, "dout")
    x_hat = cache.x_hat
    if dout.shape != x_hat.shape:
        raise ValueError(f"dout must have the forward output's shape {x_hat.shape}, "
                         f"got {dout.shape}")
    g = dout * cache.gamma
    dx = cache.inv_std * (g - g.mean(axis=-1, keepdims=True)
                          - x_hat * (g * x_hat).mean(axis=-1, keepdims=True))
    E = x_hat.shape[-1]
    dgamma = (dout * x_hat).reshape(-1, E).sum(axis=0)
    dbeta = dout.reshape(-1, E).sum(axis=0)
    return dx, dgamma, dbeta


# --------------------------------------------------------------------------- convolution


def conv_output_size(size, kernel, stride=1, padding=0):
    """Kernel positions along one axis: ``floor((size + 2*padding - kernel) / stride) + 1``.

    As in torch (``ceil_mode=False``): when the stride does not divide
    ``size + 2*padding - kernel``, the division rounds down and the last
    ``(size + 2*padding - kernel) % stride`` rows (or columns) of the padded
    input are never seen by any kernel position. Raises a ``ValueError`` when
    the kernel does not fit in the padded input, or when an argument is not an
    integer in range (``size``, ``kernel``, ``stride`` >= 1, ``padding`` >= 0),
    which torch refuses too.
    """
    size, kernel = check_int("size", size, 1), check_int("kernel", kernel, 1)
    stride, padding = check_int("stride", stride, 1), check_int("padding", padding, 0)
    padded = size + 2 * padding
    if kernel > padded:
        raise ValueError(f"the kernel ({kernel}) is larger than the padded input "
                         f"({size} + 2*{padding} = {padded}): kernel must be at most "
                         f"size + 2*padding = {padded}, got {kernel}")
    return (padded - kernel) // stride + 1


def unseen_size(size, kernel, stride=1, padding=0):
    """How many trailing rows (or columns) of the padded input no kernel position sees.

    ``size + 2*padding - ((out - 1) * stride + kernel)`` with ``out =
    conv_output_size(...)``: 0 when the stride divides ``size + 2*padding - kernel``.
    Of those rows, the last ``padding`` are padding zeros; the rest are the input's own.
    """
    out = conv_output_size(size, kernel, stride, padding)
    return size + 2 * padding - ((out - 1) * stride + kernel)


def check_images(x, name="x"):
    x = as_float_array(x, name)
    if x.ndim != 4:
        raise ValueError(f"{name} must be a batch of images (B, C, H, W), got shape {x.shape}")
    return x


def im2col(x, kernel_size, stride=1, padding=0):
    """Every patch a kernel sees, laid out as the columns of one matrix.

    Args:
        x: images ``(B, C, H, W)``.
        kernel_size: ``(KH, KW)``.
        stride, padding: as in ``conv2d_forward``.

    Returns:
        ``cols (C*KH*KW, B*OH*OW)``: column ``b*OH*OW + i*OW + j`` is the patch
        under the kernel at output position ``(i, j)`` of image ``b``, flattened
        in ``(C, KH, KW)`` order, the order of ``w.reshape(F, -1)``'s rows. A
        convolution is then one matrix product, ``w.reshape(F, -1) @ cols``.
    """
    x = check_images(x)
    KH, KW = kernel_size
    B, C, H, W = x.shape
    OH, OW = conv_output_size(H, KH, stride, padding), conv_output_size(W, KW, stride, padding)
    if padding:
        x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    # A view (B, C, OH, OW, KH, KW) of the padded images: no copy until the reshape below.
    windows = sliding_window_view(x, (KH, KW), axis=(2, 3))[:, :, ::stride, ::stride]
    return windows.transpose(1, 4, 5, 0, 2, 3).reshape(C * KH * KW, B * OH * OW)


class Conv2dCache(NamedTuple):
    cols: np.ndarray  # (C*KH*KW, B*OH*OW), the patches (im2col)
    w: np.ndarray  # (F, C, KH, KW)
    x_shape: tuple  # (B, C, H, W)
    stride: int
    padding: int


def conv2d_forward(x, w, b, stride=1, padding=0):
    """A 2-D convolution (cross-correlation, as in every deep-learning library).

    ``out[b, f, i, j] = b[f] + sum_{c, u, v} w[f, c, u, v] * xp[b, c, i*stride + u, j*stride + v]``
    where ``xp`` is ``x`` with ``padding`` zeros around each image. Computed as one
    matrix product over all patches (``im2col``), with no Python loop over pixels.

    Args:
        x: images ``(B, C, H, W)``.
        w: filters ``(F, C, KH, KW)``.
        b: one bias per filter ``(F,)``.
        stride: step between kernel positions (an integer >= 1).
        padding: zeros added on each side (an integer >= 0).

    Returns:
        ``out (B, F, OH, OW)`` with ``OH = floor((H + 2*padding - KH) / stride) + 1``
        (and ``OW`` alike; see ``conv_output_size``), and a cache for
        ``conv2d_backward``. When the stride does not divide ``H + 2*padding - KH``
        (or ``W + 2*padding - KW``), the last rows (columns) of the padded input
        are never seen: no kernel position reaches them, they do not change the
        output and their gradient in ``conv2d_backward`` is zero, exactly as in
        torch. Tested against ``torch.nn.functional.conv2d(x, w, b, stride, padding)``.
    """
    x = check_images(x)
    w, b = as_float_array(w, "w"), as_float_array(b, "b")
    if w.ndim != 4:
        raise ValueError(f"w must hold filters (F, C, KH, KW), got shape {w.shape}")
    F, C, KH, KW = w.shape
    if x.shape[1] != C:
        raise ValueError(f"x has {x.shape[1]} channels but the filters w {w.shape} expect {C}: "
                         f"x must have shape (B, {C}, H, W)")
    if b.shape != (F,):
        raise ValueError(f"b must have shape ({F},), one bias per filter of w {w.shape}, "
                         f"got {b.shape}")
    B, _, H, W = x.shape
    try:
        OH = conv_output_size(H, KH, stride, padding)
        OW = conv_output_size(W, KW, stride, padding)
    except ValueError as err:
        raise ValueError(f"conv2d on x {x.shape} with w {w.shape}, stride={stride!r}, "
                         f"padding={padding!r}: {err}") from None
    cols = im2col(x, (KH, KW), stride, padding)
    out = w.reshape(F, -1) @ cols  # (F, B*OH*OW): each filter against every patch
    out += b[:, None]
    out = out.reshape(F, B, OH, OW).transpose(1, 0, 2, 3)
    return out, Conv2dCache(cols, w, x.shape, stride, padding)


def conv2d_backward(dout, cache):
    """Gradients of a 2-D convolution.

    With ``d = dout`` laid out like the forward product's output ``(F, B*OH*OW)``:
    ``dw = d @ cols.T`` (each weight met every patch), ``db = sum of dout`` over
    batch and positions, and ``dcols = w.T @ d``, whose columns are added back
    onto the pixels they were copied from (col2im; one vectorised add per kernel
    offset ``(u, v)``, not a loop over pixels). The last rows and columns that
    no kernel position reached (a stride that does not divide the size) get 0.

    Returns:
        ``dx (B, C, H, W), dw (F, C, KH, KW), db (F,)``.
    """
    dout = as_float_array(dout, "dout")
    B, C, H, W = cache.x_shape
    F, _, KH, KW = cache.w.shape
    s, p = cache.stride, cache.padding
    OH, OW = (H + 2 * p - KH) // s + 1, (W + 2 * p - KW) // s + 1
    if dout.shape != (B, F, OH, OW):
        raise ValueError(f"dout must have the forward output's shape {(B, F, OH, OW)}, "
                         f"got {dout.shape}")
    d = dout.transpose(1, 0, 2, 3).reshape(F, B * OH * OW)
    db = d.sum(axis=1)
    dw = (d @ cache.cols.T).reshape(cache.w.shape)
    dcols = (cache.w.reshape(F, -1).T @ d).reshape(C, KH, KW, B, OH, OW)
    dxp = np.zeros((C, B, H + 2 * p, W + 2 * p))
    for u in range(KH):  # col2im: a pixel under several kernel positions collects each
        for v in range(KW):
            dxp[:, :, u:u + s * OH:s, v:v + s * OW:s] += dcols[:, u, v]
    dx = dxp[:, :, p:p + H, p:p + W].transpose(1, 0, 2, 3)
    return dx, dw, db


# --------------------------------------------------------------------------- max pooling


class MaxPool2dCache(NamedTuple):
    x: np.ndarray  # (B, C, H, W), the input (not a copy)
    out: np.ndarray  # (B, C, OH, OW), each window's max
    kernel: int
    stride: int

    @property
    def winner(self):
        """``(B, C, OH, OW)``: which cell of each window won, ``u * kernel + v`` (first on ties)."""
        winner = np.full(self.out.shape, -1, dtype=np.int16)
        for u, v, cell in _window_cells(self.x, self.kernel, self.stride, self.out.shape):
            np.copyto(winner, u * self.kernel + v, where=(winner < 0) & (cell == self.out))
        return winner


def _window_cells(x, k, s, out_shape):
    """``(u, v, view)`` for each cell of the window, in reading order: the strided view of
    the pixels that sit at offset ``(u, v)`` in their window, shaped like the output."""
    OH, OW = out_shape[2:]
    for u in range(k):
        for v in range(k):
            yield u, v, x[:, :, u:u + s * OH:s, v:v + s * OW:s]


def maxpool2d_forward(x, kernel=2, stride=None):
    """Max pooling: the largest value in each ``kernel x kernel`` window.

    Args:
        x: images ``(B, C, H, W)``.
        kernel: window size (an integer >= 1).
        stride: step between windows; defaults to ``kernel`` (windows that tile
            the image without overlap).

    Returns:
        ``out (B, C, OH, OW)`` with ``OH = floor((H - kernel) / stride) + 1`` (and
        ``OW`` alike; torch's ``ceil_mode=False``: when the stride does not divide
        ``H - kernel``, the last rows, or columns, are never seen by any window and
        get a zero gradient) and a cache (``cache.winner`` says which
        cell of each window won; on ties the first in reading order, as in
        torch). The cache refers to ``x`` itself, not a copy: do not change
        ``x`` in place before the backward pass.
        Tested against ``torch.nn.functional.max_pool2d(x, kernel, stride)``.
    """
    x = check_images(x)
    kernel = check_int("kernel", kernel, 1)
    stride = kernel if stride is None else check_int("stride", stride, 1)
    B, C, H, W = x.shape
    try:
        OH, OW = conv_output_size(H, kernel, stride), conv_output_size(W, kernel, stride)
    except ValueError as err:
        raise ValueError(f"max-pool on x {x.shape} with kernel={kernel}, stride={stride}: "
                         f"{err}") from None
    # One strided view per cell of the window; a running max over the kernel*kernel
    # views (loops over the window's cells, vectorised over every pixel).
    cells = _window_cells(x, kernel, stride, (B, C, OH, OW))
    out = next(cells)[2].copy()
    for _, _, cell in cells:
        np.maximum(out, cell, out=out)
    return out, MaxPool2dCache(x, out, kernel, stride)


def maxpool2d_backward(dout, cache):
    """Gradient of max pooling: each window's gradient goes to its winner, 0 to the others.

    Where windows overlap (stride < kernel) a pixel that wins several windows
    collects all their gradients; pixels in no window (between windows when
    stride > kernel, or the last rows and columns when the stride does not divide
    the size) get 0. Returns ``dx (B, C, H, W)``.
    """
    dout = as_float_array(dout, "dout")
    if dout.shape != cache.out.shape:
        raise ValueError(f"dout must have the forward output's shape {cache.out.shape}, "
                         f"got {dout.shape}")
    k, s = cache.kernel, cache.stride
    OH, OW = dout.shape[2:]
    tiles = k == s and cache.x.shape[2] == k * OH and cache.x.shape[3] == k * OW
    dx = np.empty(cache.x.shape) if tiles else np.zeros(cache.x.shape)
    open_ = np.ones(dout.shape, dtype=bool)  # windows whose winner is not found yet
    hit = np.empty(dout.shape, dtype=bool)
    for u, v, cell in _window_cells(cache.x, k, s, dout.shape):
        np.equal(cell, cache.out, out=hit)  # this cell holds the max ...
        hit &= open_  # ... and no earlier cell did: the first max wins, as in torch
        open_ &= ~hit
        target = dx[:, :, u:u + s * OH:s, v:v + s * OW:s]
        if tiles:  # every pixel lies in exactly one window: write, don't add
            np.multiply(dout, hit, out=target)
        else:
            target += dout * hit
    return dx
