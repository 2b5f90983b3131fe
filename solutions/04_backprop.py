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


def two_layer_backward(x, y, params):
    w1, b1, w2, b2 = params["w1"], params["b1"], params["w2"], params["b2"]
    B = len(x)
    rows = np.arange(B)
    # forward pass, keeping what the backward pass needs (x, h and the probabilities)
    z = x @ w1 + b1  # (B, H)
    h = np.tanh(z)  # (B, H)
    logits = h @ w2 + b2  # (B, K)
    shifted = logits - logits.max(axis=1, keepdims=True)  # the log-sum-exp trick of notebook 03
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # log softmax
    loss = -log_p[rows, y].mean()  # the mean over the batch of -log p(true class)

    # backward pass, from the loss down, one chain-rule step per line
    dlogits = np.exp(log_p)  # softmax probabilities p, (B, K)
    dlogits[rows, y] -= 1.0  # minus the one-hot target
    dlogits /= B  # the loss is a mean over B examples
    dw2 = h.T @ dlogits  # (H, B) @ (B, K) = (H, K), the shape of w2
    db2 = dlogits.sum(axis=0)  # every example uses the same b2: sum, (K,)
    dh = dlogits @ w2.T  # (B, K) @ (K, H) = (B, H)
    dz = dh * (1.0 - h**2)  # tanh'(z) = 1 - tanh(z)² = 1 - h², elementwise
    dw1 = x.T @ dz  # (D, B) @ (B, H) = (D, H)
    db1 = dz.sum(axis=0)  # (H,)
    return loss, {"w1": dw1, "b1": db1, "w2": dw2, "b2": db2}


def train_step(params, x, y, lr):
    # forward, loss and backward in one call: the function of the exercise before
    loss, grads = two_layer_backward(x, y, params)
    # plain gradient descent on every parameter, weights and biases alike: p <- p - lr * dL/dp
    new_params = {name: p - lr * grads[name] for name, p in params.items()}
    return loss, new_params
