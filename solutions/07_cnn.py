"""Solutions to the exercises of notebooks/07_cnn.ipynb. Try them yourself first!"""

import numpy as np


def conv_output_size(size, kernel, stride, padding):
    # The padded input has size + 2*padding cells (zeros on both sides). The kernel's first
    # position uses `kernel` of them; it then steps `stride` cells at a time over the rest.
    return (size + 2 * padding - kernel) // stride + 1


def conv2d_single(image, kernel):
    H, W = image.shape
    KH, KW = kernel.shape
    out = np.zeros((H - KH + 1, W - KW + 1))  # the kernel fits at rows 0 .. H-KH
    for i in range(H - KH + 1):
        for j in range(W - KW + 1):
            patch = image[i:i + KH, j:j + KW]  # the cells under the kernel
            out[i, j] = np.sum(patch * kernel)  # element by element, no flip
    return out


def maxpool_backward(x, dout):
    H, W = x.shape
    dx = np.zeros_like(x, dtype=float)  # cells that were not a max get no gradient
    for i in range(H // 2):
        for j in range(W // 2):
            window = x[2 * i:2 * i + 2, 2 * j:2 * j + 2]
            u, v = np.unravel_index(np.argmax(window), window.shape)  # first max on ties
            dx[2 * i + u, 2 * j + v] = dout[i, j]  # only the max cell reached the output
    return dx


def batchnorm_train_forward(x, gamma, beta, eps):
    # Statistics per feature over the batch: axis 0, one mean and one variance per column.
    mu = x.mean(axis=0)
    var = ((x - mu) ** 2).mean(axis=0)  # divided by B: the batch's own variance
    x_hat = (x - mu) / np.sqrt(var + eps)  # each column now has mean 0 and variance ~1
    return gamma * x_hat + beta  # the learned scale and shift, one pair per feature


def batchnorm_train_backward(dout, x, gamma, eps):
    B = len(x)
    mu = x.mean(axis=0)
    inv_std = 1.0 / np.sqrt(((x - mu) ** 2).mean(axis=0) + eps)
    x_hat = (x - mu) * inv_std
    dgamma = (dout * x_hat).sum(axis=0)  # gamma multiplies x_hat, in every example
    dbeta = dout.sum(axis=0)
    g = dout * gamma  # dL/dx_hat
    # x_hat depends on x directly, and through mu and var, which every example changes:
    #   dx_j = inv_std * (g_j - mean(g) - x_hat_j * mean(g * x_hat))   (means over the batch)
    dx = inv_std * (g - g.sum(axis=0) / B - x_hat * (g * x_hat).sum(axis=0) / B)
    return dx, dgamma, dbeta
