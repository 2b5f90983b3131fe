"""Exercises of the GAN notebook: the discriminator's and the generator's losses.

Both take the discriminator's *logits*: a logit ``a`` gives ``D = sigmoid(a)``, the
probability that a sample is real. With ``softplus(a) = log(1 + exp(a))``,
``-log D = softplus(-a)`` and ``-log(1 - D) = softplus(a)``, so

- ``discriminator_loss(real, fake) = mean(softplus(-real)) + mean(softplus(fake))``: the
  binary cross-entropy of calling real samples real and generated ones fake, each batch
  averaged on its own;
- ``generator_loss(fake, "non-saturating") = mean(softplus(-fake))``, i.e. ``-log D(G(z))``;
- ``generator_loss(fake, "minimax") = -mean(softplus(fake))``, i.e. ``log(1 - D(G(z)))``,
  the generator's term of the original game, which the generator minimises.

The last cases hold logits in the hundreds, where ``1 / (1 + exp(-a))`` rounds to exactly
0 or 1 and its log is infinite: only a stable softplus,
``max(a, 0) + log1p(exp(-|a|))``, passes them.
"""

import numpy as np

from nnlib.exercises import Case, Exercise, Mistake, only_if_finite

__all__ = ["discriminator_loss", "generator_loss"]

_rng = np.random.default_rng(11)


def _softplus(a):
    # log(1 + exp(a)) without overflow: exp only ever sees -|a| <= 0
    return np.maximum(a, 0.0) + np.log1p(np.exp(-np.abs(a)))


def _naive_log_sigmoid(a):
    # the textbook formula: 1 / (1 + exp(-a)) is exactly 0 for a < -709 (exp overflows) and
    # exactly 1 for a > 37, and log(0) = -inf
    return np.log(1.0 / (1.0 + np.exp(-a)))


def _naive_log_one_minus_sigmoid(a):
    return np.log(1.0 - 1.0 / (1.0 + np.exp(-a)))


# ----------------------------------------------------------------------- discriminator


def _reference_discriminator_loss(real_logits, fake_logits):
    # = nnlib.losses.binary_cross_entropy_with_logits(real, 1) + (fake, 0)
    # (tests/test_exercises_gan.py checks it)
    return np.mean(_softplus(-real_logits)) + np.mean(_softplus(fake_logits))


discriminator_loss = Exercise(
    "discriminator_loss",
    reference=_reference_discriminator_loss,
    cases=[
        # First a discriminator that already leans the right way: real logits > 0 and fake
        # logits < 1, so that taking the logits for probabilities gives a finite (wrong)
        # number that can be named. The batch sizes differ, which tells one mean over all
        # samples apart from the sum of the two means.
        Case((np.array([0.4, 1.5, 0.9, 2.2]), np.array([-0.7, 0.3, -1.6])),
             "4 real and 3 fake samples"),
        Case((np.array([0.8]), np.array([-0.3])), "a batch of one of each"),
        Case((_rng.standard_normal(2), _rng.standard_normal(6)), "2 real and 6 fake samples"),
        Case((np.zeros(3), np.zeros(3)), "all logits 0 (D = 1/2 everywhere)"),
        Case((3.0 + _rng.standard_normal(5), -8.0 + _rng.standard_normal(4)),
             "a confident discriminator (fake logits near -8)"),
        # a discriminator confidently wrong: 1 / (1 + exp(-a)) rounds to 0 for a = -800 and
        # to 1 for a = 50, and the textbook formula takes log(0)
        Case((np.array([-800.0, 60.0, 2.0]), np.array([50.0, -700.0, 800.0, -1.0, 0.5])),
             "large logits (|a| up to 800)"),
    ],
    mistakes=[
        Mistake(lambda real, fake: np.mean(_softplus(real)) + np.mean(_softplus(-fake)),
                "the labels are swapped: you call the real samples fake and the generated "
                "ones real. Real samples should get a high D = sigmoid(a), so their term is "
                "-log D(x) = softplus(-a_real); the fakes' term is -log(1 - D(G(z))) = "
                "softplus(a_fake)"),
        Mistake(lambda real, fake: np.mean(np.concatenate([_softplus(-real),
                                                           _softplus(fake)])),
                "you took one mean over the real and fake samples together: average each "
                "batch on its own and add the two means, so that real and fake samples count "
                "equally whatever the batch sizes (here they differ)"),
        Mistake(lambda real, fake: 0.5 * (np.mean(_softplus(-real))
                                          + np.mean(_softplus(fake))),
                "you averaged the two terms: here the loss is their sum, "
                "mean(-log D(x)) + mean(-log(1 - D(G(z)))), as in the original GAN paper "
                "and the DCGAN tutorial (some codes halve it; that only rescales the "
                "discriminator's learning rate)"),
        Mistake(lambda real, fake: -(np.mean(_softplus(-real)) + np.mean(_softplus(fake))),
                "the minus sign is missing, so your loss is negative: mean(log D(x)) + "
                "mean(log(1 - D(G(z)))) is the value the discriminator MAXIMISES; a loss to "
                "minimise is its negative, a cross-entropy, which is never below 0"),
        Mistake(lambda real, fake: np.sum(_softplus(-real)) + np.sum(_softplus(fake)),
                "you summed over the samples: take the mean over each batch, so that the "
                "loss does not grow with the batch size"),
        Mistake(only_if_finite(lambda real, fake: -np.mean(np.log(real))
                                - np.mean(np.log(1.0 - fake))),
                "those are logits, not probabilities: D = sigmoid(a), so the real samples' "
                "term is -log sigmoid(a_real) = softplus(-a_real), not -log(a_real) (which is "
                "not even defined for a negative logit)"),
        Mistake(lambda real, fake: -np.mean(_naive_log_sigmoid(real))
                - np.mean(_naive_log_one_minus_sigmoid(fake)),
                "your loss is infinite for large logits, though the right one is finite: "
                "1 / (1 + exp(-a)) rounds to exactly 0 for a = -800 (exp(800) overflows) and "
                "to exactly 1 for a = 50, and log(0) = -inf. Work with the logits: "
                "-log sigmoid(a) = softplus(-a) and -log(1 - sigmoid(a)) = softplus(a), where "
                "softplus(a) = log(1 + exp(a)) = max(a, 0) + np.log1p(np.exp(-abs(a))) never "
                "overflows"),
    ],
    # a correct answer computed in float32 is accepted: about 1e-7 off, far from every mistake
    rtol=1e-5, atol=1e-6,
)


# --------------------------------------------------------------------------- generator

_KINDS = ("non-saturating", "minimax")


def _generator(fake_logits, kind, non_saturating, minimax):
    """``non_saturating(fake)`` or ``minimax(fake)`` by ``kind``; an unknown kind raises."""
    if kind not in _KINDS:
        raise ValueError(f"kind must be 'non-saturating' or 'minimax', got {kind!r}")
    return (non_saturating if kind == "non-saturating" else minimax)(fake_logits)


def _non_saturating(fake):
    return np.mean(_softplus(-fake))  # -log D(G(z))


def _minimax(fake):
    return -np.mean(_softplus(fake))  # log(1 - D(G(z)))


def _reference_generator_loss(fake_logits, kind):
    return _generator(fake_logits, kind, _non_saturating, _minimax)


def _gen_case(fake_logits, kind, label):
    return Case((fake_logits,), f"{label} [{kind}]", {"kind": kind})


generator_loss = Exercise(
    "generator_loss",
    reference=_reference_generator_loss,
    cases=[
        _gen_case(_rng.standard_normal(4), "non-saturating", "B = 4"),
        _gen_case(_rng.standard_normal(4), "minimax", "B = 4"),
        _gen_case(np.array([-1.3]), "non-saturating", "a batch of one"),
        _gen_case(np.zeros(3), "minimax", "all logits 0 (D = 1/2)"),
        # early in training D rejects every fake: D(G(z)) ~ 1e-3 to 1e-4, where the minimax
        # loss is flat (it saturates) and the non-saturating one still has a slope of -1/B
        _gen_case(-8.0 + _rng.standard_normal(5), "non-saturating",
                  "early training (fake logits near -8)"),
        _gen_case(-8.0 + _rng.standard_normal(5), "minimax",
                  "early training (fake logits near -8)"),
        # 1 / (1 + exp(-a)) rounds to exactly 0 for a = -800 and to exactly 1 for a = 50
        _gen_case(np.array([-800.0, -60.0, 50.0, 3.0]), "non-saturating",
                  "large logits (|a| up to 800)"),
        _gen_case(np.array([800.0, 50.0, -700.0, -2.0]), "minimax",
                  "large logits (|a| up to 800)"),
    ],
    mistakes=[
        Mistake(lambda fake, kind: _generator(fake, kind, _minimax, _non_saturating),
                "the two kinds are swapped: \"non-saturating\" is -log D(G(z)) = "
                "mean(softplus(-a)), the generator trying to be called real; \"minimax\" is "
                "the original game's log(1 - D(G(z))) = -mean(softplus(a)), which the "
                "generator minimises"),
        Mistake(lambda fake, kind: _generator(fake, kind, _non_saturating,
                                              lambda f: np.mean(_softplus(f))),
                "the minimax loss has the wrong sign: you return -log(1 - D(G(z))), which "
                "the generator would have to MAXIMISE (minimising it is the discriminator's "
                "job). The generator minimises log(1 - D(G(z))) = -mean(softplus(a))"),
        Mistake(lambda fake, kind: _generator(fake, kind, lambda f: np.mean(_softplus(f)),
                                              _minimax),
                "for \"non-saturating\" you used the discriminator's target: -log(1 - D(G(z))) "
                "is the cross-entropy with label 0, \"fake\", and minimising it helps the "
                "discriminator. The generator wants its samples called real, label 1: "
                "-log D(G(z)) = mean(softplus(-a))"),
        Mistake(lambda fake, kind: _generator(fake, kind, lambda f: -np.mean(_softplus(-f)),
                                              _minimax),
                "the non-saturating loss has the wrong sign: it is -log D(G(z)), a "
                "cross-entropy, never negative; minimising log D(G(z)) would teach the "
                "generator to be caught"),
        Mistake(lambda fake, kind: _generator(fake, kind, lambda f: np.sum(_softplus(-f)),
                                              lambda f: -np.sum(_softplus(f))),
                "you summed over the batch: take the mean, so that the loss (and the size of "
                "a step) does not grow with the batch size"),
        Mistake(lambda fake, kind: _generator(
                    fake, kind, lambda f: -np.mean(_naive_log_sigmoid(f)),
                    lambda f: np.mean(_naive_log_one_minus_sigmoid(f))),
                "your loss is infinite for large logits, though the right one is finite: "
                "1 / (1 + exp(-a)) rounds to exactly 0 for a = -800 (exp(800) overflows) and "
                "to exactly 1 for a = 50, and log(0) = -inf. Work with the logits: "
                "-log sigmoid(a) = softplus(-a) and log(1 - sigmoid(a)) = -softplus(a), where "
                "softplus(a) = log(1 + exp(a)) = max(a, 0) + np.log1p(np.exp(-abs(a))) never "
                "overflows"),
    ],
    rtol=1e-5, atol=1e-6,
)

# The published solutions, and which function there answers which exercise
# (tests/test_exercises.py checks every pair, and every listed mistake).
SOLUTIONS_FILE = "11_gan.py"
EXERCISES = {"discriminator_loss": discriminator_loss, "generator_loss": generator_loss}
