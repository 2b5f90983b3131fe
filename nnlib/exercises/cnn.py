"""Exercises of the CNN notebook: a convolution's output size, one valid 2-D convolution,
the backward pass of a 2x2 max pool, and batch norm's forward and backward passes."""

import numpy as np

from nnlib.exercises import Case, Exercise, Mistake, only_if_finite
from nnlib.layers import (
    batchnorm_backward,
    batchnorm_forward,
    conv2d_forward,
    maxpool2d_backward,
    maxpool2d_forward,
)
from nnlib.layers import conv_output_size as _conv_output_size

__all__ = ["conv_output_size", "conv2d_single", "maxpool_backward", "batchnorm_train_forward",
           "batchnorm_train_backward"]

_rng = np.random.default_rng(7)


# ----------------------------------------------------------------- conv_output_size


conv_output_size = Exercise(
    "conv_output_size",
    reference=_conv_output_size,
    cases=[
        # Labelled by the arguments (size, kernel, stride, padding). The first case has padding
        # and stride 1, the second a stride and no padding, the third both: each typical
        # mistake shows up first on a case where it alone fits.
        Case((32, 5, 1, 2), "(32, 5, 1, 2)"),
        Case((32, 5, 3, 0), "(32, 5, 3, 0)"),
        Case((31, 3, 2, 1), "(31, 3, 2, 1)"),
        Case((28, 3, 1, 1), "(28, 3, 1, 1)"),
        Case((28, 3, 1, 0), "(28, 3, 1, 0)"),
        Case((28, 2, 2, 0), "(28, 2, 2, 0)"),
        Case((7, 3, 2, 0), "(7, 3, 2, 0)"),
        Case((5, 5, 1, 0), "(5, 5, 1, 0)"),
        Case((227, 11, 4, 0), "(227, 11, 4, 0)"),
    ],
    mistakes=[
        Mistake(lambda n, k, s, p: (n - k) // s + 1,
                "you forgot the padding: it adds `padding` zeros on EACH side, so the padded "
                "input has size + 2*padding cells"),
        Mistake(lambda n, k, s, p: (n + p - k) // s + 1,
                "the padding goes on both sides: the padded input has size + 2*padding cells, "
                "not size + padding"),
        Mistake(lambda n, k, s, p: (n + 2 * p - k) // s,
                "add 1: (size + 2*padding - kernel) // stride counts the steps the kernel "
                "can take, and the positions are one more than the steps (a kernel as large "
                "as the input still has one position)"),
        Mistake(lambda n, k, s, p: n + 2 * p - k + 1,
                "divide by the stride: the kernel moves `stride` cells at a time, so "
                "(size + 2*padding - kernel) // stride + 1"),
        Mistake(lambda n, k, s, p: (n + 2 * p) // s - k + 1,
                "subtract the kernel before dividing by the stride: the kernel's first "
                "position uses `kernel` cells, and only the remaining "
                "size + 2*padding - kernel are walked `stride` at a time"),
    ],
)


# -------------------------------------------------------------------- conv2d_single


def _reference_conv2d(image, kernel):
    image, kernel = np.asarray(image, dtype=float), np.asarray(kernel, dtype=float)
    out, _ = conv2d_forward(image[None, None], kernel[None, None], np.zeros(1))
    return out[0, 0]


def _matmul_patches(image, kernel):
    """np.sum(patch @ kernel) instead of np.sum(patch * kernel)."""
    H, W = image.shape
    KH, KW = kernel.shape
    out = np.zeros((H - KH + 1, W - KW + 1))
    for i in range(H - KH + 1):
        for j in range(W - KW + 1):
            out[i, j] = np.sum(image[i:i + KH, j:j + KW] @ kernel)
    return out


def _short_loops(image, kernel):
    """The right output shape, but loops over range(H - KH): the last row and column stay 0."""
    out = _reference_conv2d(image, kernel)
    out[-1, :] = 0.0
    out[:, -1] = 0.0
    return out


def _conv_case(H, W, KH, KW):
    return (_rng.standard_normal((H, W)), _rng.standard_normal((KH, KW)))


conv2d_single = Exercise(
    "conv2d_single",
    reference=_reference_conv2d,
    cases=[
        Case((np.arange(1.0, 10.0).reshape(3, 3), np.array([[1.0, 2.0], [3.0, 4.0]])),
             "the 3x3 image [[1,2,3],[4,5,6],[7,8,9]] and kernel [[1,2],[3,4]]"),
        Case((np.array([[0.0, 1.0, 2.0, -1.0, 3.0], [1.0, -2.0, 0.5, 2.0, 1.0],
                        [2.0, 1.0, -1.0, 0.0, 4.0], [-3.0, 0.0, 1.0, 2.0, 1.0]]),
              np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.5]])),
             "a 4x5 image and a 2x3 kernel"),
        Case(_conv_case(6, 5, 3, 3), "a random 6x5 image and a 3x3 kernel"),
        Case(_conv_case(3, 4, 3, 4), "a kernel as large as the image (a 1x1 output)"),
    ],
    mistakes=[
        Mistake(lambda image, kernel: _reference_conv2d(image, kernel[::-1, ::-1]),
                "you flipped the kernel: that is the convolution of the mathematics books. "
                "What deep-learning libraries call convolution is a cross-correlation: "
                "out[i, j] = sum over u, v of kernel[u, v] * image[i + u, j + v], no flip"),
        Mistake(lambda image, kernel: _reference_conv2d(image, kernel)[:-1, :-1],
                "the output is one row and one column short: the kernel fits at rows 0 to "
                "H - KH, which is H - KH + 1 positions: loop over range(H - KH + 1)"),
        Mistake(_short_loops,
                "the last row and column are still 0: the kernel fits at rows 0 to H - KH, "
                "so loop over range(H - KH + 1) (and columns alike)"),
        Mistake(_matmul_patches,
                "multiply the patch and the kernel element by element, "
                "np.sum(patch * kernel): patch @ kernel is a matrix product"),
        Mistake(lambda image, kernel: _reference_conv2d(image, kernel.T),
                "rows and columns are swapped: kernel[u, v] multiplies image[i + u, j + v], "
                "u along the rows (KH of them) and v along the columns (KW)"),
    ],
    shape_names=("H-KH+1", "W-KW+1"),
)


# ------------------------------------------------------------------ maxpool_backward


def _reference_maxpool_backward(x, dout):
    x = np.asarray(x, dtype=float)
    _, cache = maxpool2d_forward(x[None, None], 2)
    return maxpool2d_backward(np.asarray(dout, dtype=float)[None, None], cache)[0, 0]


def _windows(x):
    """The 2x2 windows of ``x (H, W)`` as ``(H/2, W/2, 2, 2)``."""
    H, W = x.shape
    return x.reshape(H // 2, 2, W // 2, 2).transpose(0, 2, 1, 3)


def _from_windows(w):
    """Back from ``(H/2, W/2, 2, 2)`` windows to the ``(H, W)`` image."""
    a, b = w.shape[:2]
    return w.transpose(0, 2, 1, 3).reshape(2 * a, 2 * b)


def _spread(dout):
    """Each dout value copied into every cell of its window."""
    return np.kron(dout, np.ones((2, 2)))


def _winner_mask(x, last=False):
    """1 at the cell that wins each window (first in reading order, or last), 0 elsewhere."""
    windows = _windows(np.asarray(x, dtype=float))
    flat = windows.reshape(*windows.shape[:2], 4)  # each window in reading order
    index = 3 - np.argmax(flat[..., ::-1], axis=-1) if last else np.argmax(flat, axis=-1)
    mask = np.zeros_like(flat)
    np.put_along_axis(mask, index[..., None], 1.0, axis=-1)
    return _from_windows(mask.reshape(*flat.shape[:2], 2, 2))


def _all_ties(x, dout):
    w = _windows(x)
    is_max = w == w.max(axis=(2, 3), keepdims=True)
    return _from_windows(is_max * np.asarray(dout)[:, :, None, None])


def _maxpool_case(H, W):
    return (_rng.standard_normal((H, W)), _rng.standard_normal((H // 2, W // 2)))


maxpool_backward = Exercise(
    "maxpool_backward",
    reference=_reference_maxpool_backward,
    cases=[
        Case((np.array([[1.0, 3.0, 2.0, 0.0], [4.0, 2.0, 1.0, 5.0],
                        [0.0, 6.0, 3.0, 1.0], [2.0, 1.0, 4.0, 2.0]]),
              np.array([[1.0, -2.0], [3.0, 0.5]])),
             "a 4x4 image with dout [[1,-2],[3,0.5]]"),
        Case(_maxpool_case(6, 4), "a random 6x4 image"),
        Case((np.array([[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 1.0, 0.5],
                        [1.5, 3.0, 0.0, 0.7], [3.0, 0.2, 0.7, 0.0]]),
              np.array([[0.5, -1.0], [2.0, 1.5]])),
             "ties: a window of zeros (after a ReLU) and windows with two equal maxima"),
        Case((np.maximum(_rng.standard_normal((4, 6)), 0.0) * (np.arange(6) >= 2),
              _rng.standard_normal((2, 3))),
             "a random 4x6 image after a ReLU (its first two columns 0)"),
    ],
    mistakes=[
        Mistake(lambda x, dout: _spread(dout) / 4,
                "that spreads each gradient evenly over its window: the backward pass of an "
                "AVERAGE pool. Only the max cell influenced the output, so it alone gets the "
                "gradient, and the three others get 0"),
        Mistake(lambda x, dout: _spread(dout),
                "you copied dout into every cell of the window: only the cell that held the "
                "max influenced the output, so it gets the gradient and the three others 0"),
        Mistake(lambda x, dout: _winner_mask(x),
                "multiply by the upstream gradient: the max cell receives dout of its window, "
                "not 1 (dx = mask * dout, with dout copied over the window)"),
        Mistake(lambda x, dout: _winner_mask(x) * x,
                "those are the max VALUES, not gradients: route dout there, each window's "
                "dout to the cell that held the max, and 0 elsewhere"),
        Mistake(_all_ties,
                "on a tie every cell equal to the max received the gradient, so it is counted "
                "more than once: the output came from one cell. Send it to the first one in "
                "reading order (np.argmax of the flattened window), as torch does"),
        Mistake(lambda x, dout: _winner_mask(x, last=True) * _spread(dout),
                "on a tie the gradient went to the LAST cell equal to the max: send it to the "
                "first one in reading order (np.argmax of the flattened window, or a strict > "
                "when you scan), as torch does"),
    ],
    shape_names=("H", "W"),
)

# ------------------------------------------------------------ batch norm, forward and backward


def _reference_batchnorm(x, gamma, beta, eps):
    out, _, _, _ = batchnorm_forward(x, gamma, beta, eps=eps)
    return out


def _bn_case(B, D, constant_feature=False, scale=3.0):
    x = scale * _rng.standard_normal((B, D)) + _rng.standard_normal(D) * 5
    if constant_feature:
        x[:, 0] = 2.5  # one feature with the same value in every example: its variance is 0
    return x, _rng.standard_normal(D), _rng.standard_normal(D)


def _bn_forward_cases():
    # eps 1e-5 in the first cases, as torch's default; a constant feature needs it (var = 0)
    return [
        Case((*_bn_case(6, 3), 1e-5), "B = 6, D = 3"),
        Case((*_bn_case(4, 4), 1e-5), "B = D = 4"),
        Case((*_bn_case(2, 5), 1e-5), "a batch of two"),
        Case((*_bn_case(5, 3, scale=0.01), 0.1), "a large eps = 0.1 against a small variance"),
        Case((*_bn_case(4, 3, constant_feature=True), 1e-5), "a constant feature (variance 0)"),
    ]


def _x_hat(x, eps, ddof=0):
    return (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0, ddof=ddof) + eps)


batchnorm_train_forward = Exercise(
    "batchnorm_train_forward",
    reference=_reference_batchnorm,
    cases=_bn_forward_cases(),
    mistakes=[
        Mistake(lambda x, gamma, beta, eps: gamma * ((x - x.mean(axis=1, keepdims=True))
                / np.sqrt(x.var(axis=1, keepdims=True) + eps)) + beta,
                "you normalised each example over its features (axis=1), which is what layer "
                "norm (notebook 12) does. Batch norm normalises each FEATURE over the batch, "
                "so take the mean and the variance over axis=0, one value per feature"),
        Mistake(lambda x, gamma, beta, eps: gamma * _x_hat(x, eps, ddof=1) + beta,
                "that variance divides by B - 1 (ddof=1, the unbiased estimate): batch norm "
                "normalises with the batch's own variance, mean((x - mu)**2), divided by B "
                "(torch keeps B - 1 only for the running average)"),
        Mistake(only_if_finite(lambda x, gamma, beta, eps: gamma * (x - x.mean(axis=0))
                               / np.sqrt(x.var(axis=0)) + beta),
                "you left out eps: x_hat = (x - mu) / sqrt(var + eps). It keeps a feature whose "
                "values are all equal (variance 0) from dividing by zero"),
        Mistake(lambda x, gamma, beta, eps: gamma * (x - x.mean(axis=0))
                / (x.var(axis=0) + eps) + beta,
                "divide by the standard deviation sqrt(var + eps), not by the variance: "
                "x_hat = (x - mu) / sqrt(var + eps) has variance 1"),
        Mistake(lambda x, gamma, beta, eps: gamma * (x - x.mean(axis=0))
                / (x.std(axis=0) + eps) + beta,
                "eps goes under the square root: x_hat = (x - mu) / sqrt(var + eps), not "
                "(x - mu) / (std + eps). The two differ by little, but they differ, and a "
                "constant feature shows it"),
        Mistake(lambda x, gamma, beta, eps: _x_hat(x, eps),
                "you returned x_hat: finish with the learned scale and shift, "
                "out = gamma * x_hat + beta"),
        Mistake(lambda x, gamma, beta, eps: gamma * (x / np.sqrt(x.var(axis=0) + eps)) + beta,
                "subtract the batch mean before dividing: x_hat = (x - mu) / sqrt(var + eps)"),
        Mistake(lambda x, gamma, beta, eps: beta * _x_hat(x, eps) + gamma,
                "gamma and beta are swapped: gamma scales, beta shifts, "
                "out = gamma * x_hat + beta"),
    ],
    shape_names=("B", "D"),
)


def _reference_batchnorm_backward(dout, x, gamma, eps):
    _, _, _, cache = batchnorm_forward(x, gamma, np.zeros_like(gamma), eps=eps)
    return batchnorm_backward(dout, cache)


def _bn_triple(out):
    """(dx, dgamma, dbeta) as one flat array, so all three are compared at once."""
    dx, dgamma, dbeta = (np.asarray(a, dtype=float) for a in out)
    if dgamma.ndim != 1 or dbeta.ndim != 1:
        raise ValueError("dgamma and dbeta must have gamma's shape (D,)")
    return np.concatenate([dx.ravel(), dgamma, dbeta])


def _bn_parts(dout, x, gamma, eps):
    x_hat = _x_hat(x, eps)
    inv_std = 1.0 / np.sqrt(x.var(axis=0) + eps)
    return x_hat, inv_std, dout * gamma, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def _bn_backward_with(dx_of):
    """A wrong backward: ``dx_of(g, x_hat, inv_std)`` for dx, the right dgamma and dbeta."""
    def wrong(dout, x, gamma, eps):
        x_hat, inv_std, g, dgamma, dbeta = _bn_parts(dout, x, gamma, eps)
        return dx_of(g, x_hat, inv_std), dgamma, dbeta
    return wrong


def _bn_ignores_gamma(dout, x, gamma, eps):
    x_hat, inv_std, _, dgamma, dbeta = _bn_parts(dout, x, gamma, eps)
    g = dout
    dx = inv_std * (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0))
    return dx, dgamma, dbeta


def _bn_means_not_sums(dout, x, gamma, eps):
    dx = _reference_batchnorm_backward(dout, x, gamma, eps)[0]
    return dx, (dout * _x_hat(x, eps)).mean(axis=0), dout.mean(axis=0)


def _bn_backward_case(B, D):
    x, gamma, _ = _bn_case(B, D)
    return _rng.standard_normal((B, D)), x, gamma, 1e-5


batchnorm_train_backward = Exercise(
    "batchnorm_train_backward",
    reference=_reference_batchnorm_backward,
    cases=[
        Case(_bn_backward_case(6, 3), "B = 6, D = 3"),
        Case(_bn_backward_case(4, 4), "B = D = 4"),
        Case(_bn_backward_case(2, 5), "a batch of two"),
        Case(_bn_backward_case(8, 1), "one feature"),
    ],
    mistakes=[
        Mistake(_bn_backward_with(lambda g, x_hat, inv_std: g * inv_std),
                "you treated the mean and the variance as constants (dx = dout * gamma / std): "
                "in training they are computed from x, every x changes them, and their paths "
                "remove from g its mean and its part along x_hat: "
                "dx = inv_std * (g - mean(g) - x_hat * mean(g * x_hat)), means over the batch"),
        Mistake(_bn_backward_with(lambda g, x_hat, inv_std: inv_std * (g - g.mean(axis=0))),
                "you kept the path through the mean but not the one through the variance: "
                "subtract x_hat * mean(g * x_hat) too, "
                "dx = inv_std * (g - mean(g) - x_hat * mean(g * x_hat))"),
        Mistake(_bn_backward_with(lambda g, x_hat, inv_std: inv_std * (
                    g - x_hat * (g * x_hat).mean(axis=0))),
                "you kept the path through the variance but not the one through the mean: "
                "subtract mean(g) too, dx = inv_std * (g - mean(g) - x_hat * mean(g * x_hat))"),
        Mistake(_bn_backward_with(lambda g, x_hat, inv_std: inv_std * (
                    g - g.mean(axis=1, keepdims=True)
                    - x_hat * (g * x_hat).mean(axis=1, keepdims=True))),
                "those means run over the features (axis=1), as in layer norm: batch norm's "
                "statistics are per feature over the batch, so the means in dx are over axis=0"),
        Mistake(_bn_backward_with(lambda g, x_hat, inv_std: inv_std * (
                    g - g.sum(axis=0) - x_hat * (g * x_hat).sum(axis=0))),
                "inside dx the subtracted terms are MEANS over the batch, not sums: "
                "dx = inv_std * (g - mean(g) - x_hat * mean(g * x_hat)), with mean = sum / B"),
        Mistake(_bn_ignores_gamma,
                "start from g = dout * gamma, the gradient reaching x_hat (out = gamma * x_hat "
                "+ beta), not from dout itself: dx = inv_std * (g - mean(g) - x_hat * "
                "mean(g * x_hat))"),
        Mistake(lambda dout, x, gamma, eps: (_reference_batchnorm_backward(dout, x, gamma, eps)[0],
                                             dout.sum(axis=0), dout.sum(axis=0)),
                "dgamma is sum(dout * x_hat) over the batch: gamma multiplies x_hat, so its "
                "gradient carries x_hat"),
        Mistake(_bn_means_not_sums,
                "dgamma and dbeta are SUMS over the batch, not means: every example used the "
                "same gamma and beta, and the 1/B of a mean loss is already inside dout"),
    ],
    adapt=_bn_triple,
    parts=("dx", "dgamma", "dbeta"),
    adapt_hint="return three arrays (dx, dgamma, dbeta): dx shaped like x (B, D), dgamma and "
               "dbeta both shaped like gamma (D,)",
)

# The published solutions, and which function there answers which exercise
# (tests/test_exercises.py checks every pair, and every listed mistake).
SOLUTIONS_FILE = "07_cnn.py"
EXERCISES = {"conv_output_size": conv_output_size, "conv2d_single": conv2d_single,
             "maxpool_backward": maxpool_backward,
             "batchnorm_train_forward": batchnorm_train_forward,
             "batchnorm_train_backward": batchnorm_train_backward}
