"""Solutions to the exercises of notebooks/11_gan.ipynb. Try them yourself first!"""

import numpy as np

# gan_step works on torch networks (the checker builds them with the torch its caller imported)
import torch  # noqa: F401

from nnlib.models.gan_networks import discriminator_loss as torch_discriminator_loss
from nnlib.models.gan_networks import generator_loss as torch_generator_loss


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


def gan_step(G, D, opt_G, opt_D, real, z):
    # torch_discriminator_loss and torch_generator_loss are the two functions above in torch.
    fake = G(z)  # (B, 2): one batch of generated samples serves both steps

    # 1. The discriminator's step. Real samples are labelled 1, fakes 0. detach() cuts the
    #    graph at G's output: D's loss must not send a gradient into G (and its backward
    #    would otherwise free G's part of the graph, which step 2 needs).
    loss_D = torch_discriminator_loss(D(real), D(fake.detach()))
    opt_D.zero_grad()  # torch ADDS to .grad: clear what the last generator step left in D
    loss_D.backward()
    opt_D.step()

    # 2. The generator's step, through the discriminator just updated. The non-saturating
    #    loss -log D(G(z)) keeps a gradient while D rejects the fakes. The backward fills
    #    D's .grad as well (the path to G runs through D), but only opt_G steps, so D's
    #    weights stay; opt_D.zero_grad() in the next step clears that gradient.
    loss_G = torch_generator_loss(D(fake), "non-saturating")
    opt_G.zero_grad()
    loss_G.backward()
    opt_G.step()
    return loss_D.item(), loss_G.item()  # plain numbers to report: no graph kept alive
