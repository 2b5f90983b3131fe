"""Solutions to the exercises of notebooks/11_gan.ipynb. Try them yourself first!"""

import numpy as np


def softplus(a):
    # log(1 + exp(a)) = max(a, 0) + log(1 + exp(-|a|)): exp only ever sees a number <= 0, so
    # nothing overflows and nothing rounds to log(0), even for |a| in the thousands.
    return np.maximum(a, 0.0) + np.log1p(np.exp(-np.abs(a)))


def discriminator_loss(real_logits, fake_logits):
    # With D = sigmoid(a):  -log D = softplus(-a)  and  -log(1 - D) = softplus(a).
    # Real samples should be called real, generated ones fake. Each batch is averaged on its
    # own, so the two halves of the job count equally whatever the batch sizes.
    return np.mean(softplus(-real_logits)) + np.mean(softplus(fake_logits))


def generator_loss(fake_logits, kind):
    if kind == "non-saturating":
        # -log D(G(z)): the generator wants its samples called real. While D still rejects
        # them (very negative logits) the slope is about -1 per sample: it learns fast.
        return np.mean(softplus(-fake_logits))
    if kind == "minimax":
        # The generator's term of the original game, log(1 - D(G(z))), which it minimises.
        # Where D rejects the fakes, 1 - D is almost 1 and the loss is flat: no gradient.
        return -np.mean(softplus(fake_logits))
    raise ValueError(f"kind must be 'non-saturating' or 'minimax', got {kind!r}")
