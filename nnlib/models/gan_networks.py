"""The two players of a GAN and their losses, in torch (notebook 11).

* :func:`discriminator_loss`: the binary cross-entropy of calling real samples real and
  generated ones fake; :func:`generator_loss`: the non-saturating ``-log D(G(z))`` or the
  original game's ``log(1 - D(G(z)))`` ("minimax");
* :func:`build_generator` and :func:`build_discriminator`: small seeded MLPs.

The game that trains them is ``nnlib.models.gan.GAN``.
"""

from nnlib.checks import check_int

__all__ = ["GAN_LOSSES", "check_loss", "discriminator_loss", "generator_loss",
           "build_generator", "build_discriminator"]

GAN_LOSSES = ("non-saturating", "minimax")


# --------------------------------------------------------------------------- losses


def discriminator_loss(real_logits, fake_logits):
    """``mean(softplus(-real)) + mean(softplus(fake))``: ``-log D(x)`` and ``-log(1 - D(G(z)))``.

    The binary cross-entropy of calling real samples real (label 1) and generated
    ones fake (label 0), each batch averaged on its own. ``softplus`` keeps it finite
    for logits in the hundreds (``nnlib.exercises.gan.discriminator_loss`` is the
    numpy version the learner writes).

    Args:
        real_logits: ``(B_real,)`` torch tensor, the discriminator's logits on real samples.
        fake_logits: ``(B_fake,)`` its logits on generated samples.

    Returns:
        A scalar tensor.
    """
    import torch.nn.functional as F

    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits, kind="non-saturating"):
    """The generator's loss on the discriminator's logits of its samples (scalar tensor).

    * ``"non-saturating"``: ``mean(softplus(-a)) = -mean(log D(G(z)))``: its gradient in
      ``a`` is ``-sigmoid(-a) / B``, about ``-1/B`` while ``D`` rejects the fakes;
    * ``"minimax"``: ``-mean(softplus(a)) = mean(log(1 - D(G(z))))``, the generator's
      term of the original game; its gradient ``-sigmoid(a) / B`` vanishes as ``a -> -inf``,
      so a generator that the discriminator rejects confidently barely learns.
    """
    import torch.nn.functional as F

    check_loss(kind, "kind")
    if kind == "non-saturating":
        return F.softplus(-fake_logits).mean()
    return -F.softplus(fake_logits).mean()


def check_loss(kind, name="loss"):
    if kind not in GAN_LOSSES:
        raise ValueError(f"{name} must be one of {GAN_LOSSES}, got {kind!r}")


# --------------------------------------------------------------------------- networks


def _mlp(sizes, output=None):
    """Linear layers with LeakyReLU(0.2) between them; ``output``: None or "sigmoid"."""
    from torch import nn

    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(0.2))
    if output == "sigmoid":
        layers.append(nn.Sigmoid())
    return nn.Sequential(*layers)


def build_generator(noise_dim=2, hidden=64, out_dim=2, depth=2, seed=0, output=None):
    """An MLP ``z (B, noise_dim) -> x (B, out_dim)``: ``depth`` hidden layers of ``hidden``
    units with LeakyReLU(0.2).

    Args:
        output: ``None`` for a linear output (2-D points) or ``"sigmoid"`` for values in
            (0, 1) (images scaled to [0, 1]).
        seed: seeds the initial weights.
    """
    import torch

    if output not in (None, "sigmoid"):
        raise ValueError(f"output must be None or 'sigmoid', got {output!r}")
    noise_dim = check_int("noise_dim", noise_dim, 1)
    hidden = check_int("hidden", hidden, 1)
    out_dim = check_int("out_dim", out_dim, 1)
    depth = check_int("depth", depth, 1)
    torch.manual_seed(seed)
    return _mlp([noise_dim] + [hidden] * depth + [out_dim], output)


def build_discriminator(in_dim=2, hidden=64, depth=2, seed=0):
    """An MLP ``x (B, in_dim) -> logits (B,)``, ``depth`` hidden layers with LeakyReLU(0.2).

    It returns logits, not probabilities: ``D(x) = sigmoid(logit)``, and the losses take
    the logits (stable for any size).
    """
    import torch
    from torch import nn

    in_dim = check_int("in_dim", in_dim, 1)
    hidden = check_int("hidden", hidden, 1)
    depth = check_int("depth", depth, 1)
    torch.manual_seed(seed)
    return nn.Sequential(_mlp([in_dim] + [hidden] * depth + [1]), nn.Flatten(0))
