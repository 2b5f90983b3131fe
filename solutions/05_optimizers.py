"""Solutions to the exercises of notebooks/05_optimizers.ipynb. Try them yourself first!"""

import numpy as np


def max_stable_lr(hessian):
    # Along an eigenvector with eigenvalue λ, one step multiplies the error by (1 - lr·λ).
    # It shrinks while |1 - lr·λ| < 1, i.e. lr < 2/λ; the largest eigenvalue L sets the limit.
    L = np.linalg.eigvalsh(hessian).max()  # eigvalsh: for symmetric matrices, real and sorted
    return 2.0 / L


def momentum_step(p, v, g, lr, beta):
    v = beta * v + g  # the velocity: a running sum of gradients, older ones shrunk by beta
    return p - lr * v, v


def adam_step(p, m, s, g, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g  # running mean of the gradient
    s = beta2 * s + (1 - beta2) * g**2  # running mean of its square
    m_hat = m / (1 - beta1**t)  # bias correction: m and s started at zero
    s_hat = s / (1 - beta2**t)
    return p - lr * m_hat / (np.sqrt(s_hat) + eps), m, s


def adam_path(grad, p0, n_steps, lr, beta1, beta2, eps):
    p = np.array(p0, dtype=float)
    m, s = np.zeros_like(p), np.zeros_like(p)  # Adam's state starts at zero, once
    path = [p]
    for t in range(1, n_steps + 1):  # t counts the steps from 1: 1 - beta^0 would be 0
        # each step gets the gradient at the current point and the state the last step left
        p, m, s = adam_step(p, m, s, grad(p), t, lr, beta1, beta2, eps)
        path.append(p)  # adam_step returns a new array, so the earlier points stay as they were
    return np.array(path)  # (n_steps + 1, n): the start, then one point per step
