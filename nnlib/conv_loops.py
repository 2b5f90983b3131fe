"""Convolution and max pooling written with loops, the way a textbook first writes them.

One Python iteration per output position ``(i, j)``, vectorised only over the
batch and the filters. Slow on purpose: notebook 07 and ``make bench`` compare
them with the im2col versions in ``nnlib.layers`` (same arguments, same caches'
meaning, same results to rounding; tests/test_conv_loops.py checks that) and
with torch, to show what vectorising buys. Like them (and torch), they round the
output size down when the stride does not divide the size: the last rows and
columns that no window reaches are never seen, and their gradient is zero.
"""

from typing import NamedTuple

import numpy as np

from nnlib.layers import check_images, conv_output_size

__all__ = ["conv2d_forward_loops", "conv2d_backward_loops",
           "maxpool2d_forward_loops", "maxpool2d_backward_loops"]


class LoopConvCache(NamedTuple):
    xp: np.ndarray  # the padded input (B, C, H + 2p, W + 2p)
    w: np.ndarray  # (F, C, KH, KW)
    stride: int
    padding: int


def conv2d_forward_loops(x, w, b, stride=1, padding=0):
    """``conv2d_forward`` with a loop over output positions: a dot product per patch."""
    x = check_images(x)
    w, b = np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)
    B, C, H, W = x.shape
    F, _, KH, KW = w.shape
    OH, OW = conv_output_size(H, KH, stride, padding), conv_output_size(W, KW, stride, padding)
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out = np.empty((B, F, OH, OW))
    for i in range(OH):
        for j in range(OW):
            patch = xp[:, :, i * stride:i * stride + KH, j * stride:j * stride + KW]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, LoopConvCache(xp, w, stride, padding)


def conv2d_backward_loops(dout, cache):
    """``conv2d_backward`` with the same loop: each patch gets back ``dout[:, :, i, j] @ w``."""
    xp, w, s, p = cache
    _, _, KH, KW = w.shape
    _, _, OH, OW = dout.shape
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for i in range(OH):
        for j in range(OW):
            rows, cols = slice(i * s, i * s + KH), slice(j * s, j * s + KW)
            g = dout[:, :, i, j]  # (B, F)
            dxp[:, :, rows, cols] += np.tensordot(g, w, axes=(1, 0))
            dw += np.tensordot(g, xp[:, :, rows, cols], axes=(0, 0))
    H, W = xp.shape[2] - 2 * p, xp.shape[3] - 2 * p
    return dxp[:, :, p:p + H, p:p + W], dw, dout.sum(axis=(0, 2, 3))


class LoopPoolCache(NamedTuple):
    x: np.ndarray
    winner: np.ndarray  # (B, C, OH, OW), flat index of the max inside each window
    kernel: int
    stride: int


def maxpool2d_forward_loops(x, kernel=2, stride=None):
    """``maxpool2d_forward`` with a loop over windows (ties: the first cell, as torch)."""
    x = check_images(x)
    stride = kernel if stride is None else stride  # stride=0 is refused below
    B, C, H, W = x.shape
    OH, OW = conv_output_size(H, kernel, stride), conv_output_size(W, kernel, stride)
    out = np.empty((B, C, OH, OW))
    winner = np.empty((B, C, OH, OW), dtype=np.int64)
    for i in range(OH):
        for j in range(OW):
            window = x[:, :, i * stride:i * stride + kernel, j * stride:j * stride + kernel]
            flat = window.reshape(B, C, -1)
            winner[:, :, i, j] = flat.argmax(axis=2)
            out[:, :, i, j] = flat.max(axis=2)
    return out, LoopPoolCache(x, winner, kernel, stride)


def maxpool2d_backward_loops(dout, cache):
    """``maxpool2d_backward`` with the same loop: each window's gradient goes to its max."""
    x, winner, k, s = cache
    B, C = x.shape[:2]
    dx = np.zeros_like(x)
    b, c = np.arange(B)[:, None], np.arange(C)[None, :]
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            u, v = np.divmod(winner[:, :, i, j], k)
            dx[b, c, i * s + u, j * s + v] += dout[:, :, i, j]
    return dx
