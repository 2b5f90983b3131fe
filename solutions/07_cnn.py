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
