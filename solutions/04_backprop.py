"""Solutions to the exercises of notebooks/04_backprop.ipynb. Try them yourself first!"""

import numpy as np


def linear_backward(dout, x, w):
    # out = x @ w + b, so out[n, m] = sum_d x[n, d] w[d, m] + b[m]:
    #   dL/dx[n, d] = sum_m dout[n, m] w[d, m]   ->  dout @ w.T     (B, M) @ (M, D)
    #   dL/dw[d, m] = sum_n x[n, d] dout[n, m]   ->  x.T @ dout     (D, B) @ (B, M)
    #   dL/db[m]    = sum_n dout[n, m]           ->  summed over the batch
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def tanh_backward(dout, z):
    # h = tanh(z) elementwise, so dL/dz = dL/dh * tanh'(z) with tanh'(z) = 1 - tanh(z)².
    return dout * (1.0 - np.tanh(z) ** 2)


def numerical_gradient(f, x, h):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):  # every index of an array of any shape
        old = x[i]
        x[i] = old + h
        f_plus = f(x)
        x[i] = old - h
        f_minus = f(x)
        x[i] = old  # put it back before moving on to the next entry
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad
