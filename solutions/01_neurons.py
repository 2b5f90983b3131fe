"""Solutions to the exercises of notebooks/01_neurons.ipynb. Try them yourself first!"""

import numpy as np


def weighted_sum(X, w, b):
    # One weighted sum per row: (B, D) @ (D,) -> (B,), plus the bias.
    return X @ w + b


def step(z):
    return (z > 0).astype(float)


def perceptron_step(w, b, x, t, lr):
    y = step(x @ w + b)
    error = t - y  # +1: should have fired; -1: should not have; 0: already right
    return w + lr * error * x, b + lr * error


def train_perceptron(X, t, w, b, lr, epochs):
    mistakes = []
    for _ in range(epochs):
        wrong = 0  # a fresh count for every epoch
        for x, target in zip(X, t):
            # Count with the output *before* the update: that is the mistake the rule corrects.
            wrong += int(step(x @ w + b) != target)
            # The rule itself; its error t - y is 0 on a right answer, so only mistakes move w, b.
            w, b = perceptron_step(w, b, x, target, lr)
        mistakes.append(wrong)
        if wrong == 0:  # a whole epoch without a mistake: nothing will ever change again
            break
    return w, b, mistakes


def xor_network(X):
    # Hidden layer: h1 = OR(x1, x2), h2 = NAND(x1, x2); output: AND(h1, h2).
    h1 = step(X @ np.array([1.0, 1.0]) - 0.5)
    h2 = step(X @ np.array([-1.0, -1.0]) + 1.5)
    return step(h1 + h2 - 1.5)
