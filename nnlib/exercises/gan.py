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

``gan_step(G, D, opt_G, opt_D, real, z)`` is one whole training step in torch, checked by
``TrainingStepExercise`` on tiny seeded networks: the discriminator's step (real samples
labelled 1, ``G(z)`` detached and labelled 0), then the generator's (the non-saturating loss
through ``D``, only ``opt_G`` steps); it returns ``(loss_D, loss_G)``. The checker compares the
returned losses and every parameter of both networks after the step with a reference step's.

torch and this package: ``nnlib.exercises`` is numpy code. The one exception is
``TrainingStepExercise.build``, which imports torch when a torch step is first checked, to
build its small networks (tests/test_architecture.py allows exactly that import, inside a
function, so importing this module still loads no torch). Its references and mistakes use
tensor and module methods only.
"""

import copy

import numpy as np

from nnlib.exercises import Case, CheckResult, Exercise, Mistake, only_if_finite

__all__ = ["discriminator_loss", "generator_loss", "gan_step", "TrainingStepExercise"]

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

# ------------------------------------------------------------------- a torch training step


class TrainingStepExercise(Exercise):
    """A torch training step, checked by the losses it returns and the state it leaves.

    A step changes its arguments in place (parameters, optimizers' moments, ``.grad``) and
    returns its losses. For every call, of the learner's step, the reference's or a
    mistake's, the case's arguments are deep-copied in ONE ``copy.deepcopy`` (so that each
    optimizer copy still holds its own module copy's parameters): no two calls share a tensor,
    and nothing the learner's function does can change the reference. The answer compared is
    one flat float64 vector: the returned losses, then every parameter of the modules named
    in ``modules`` after the step; a difference is reported by name.

    Args:
        build_cases: ``build_cases(torch) -> [Case, ...]``, called once, with the torch
            module the caller imported (this numpy package never imports it).
        loss_names: what the step returns, in order, e.g. ``("discriminator's loss", ...)``.
        modules: ``{"G": 0, "D": 1}``: which positional arguments are modules, by name.
        adapt_hint: shown when the step does not return ``len(loss_names)`` numbers.
        update_hint: appended when only the parameters differ (where to look).
        raised_hints: ``(text, hint)`` pairs: a hint added when the learner's error
            message contains ``text`` (torch's own messages can mislead a learner).
    """

    def __init__(self, name, reference, build_cases, loss_names, modules, mistakes=(),
                 adapt_hint="the answer does not have the expected form", update_hint="",
                 raised_hints=(), rtol=1e-6, atol=1e-8):
        super().__init__(
            name, reference, cases=[Case((), "built when first checked")], mistakes=mistakes,
            adapt=self._flatten, adapt_hint=adapt_hint, rtol=rtol, atol=atol)
        self.build_cases = build_cases
        self.loss_names = tuple(loss_names)
        self.modules = dict(modules)
        self.update_hint = update_hint
        self.raised_hints = tuple(raised_hints)
        self._built = False
        self._parts = []  # (label, start, stop, shape) of the flat answer, set by _flatten

    def build(self):
        """Build the cases (once): small seeded torch networks and optimizers."""
        if not self._built:
            import torch

            self.cases = tuple(self.build_cases(torch))
            self._built = True

    def _check(self, fn):  # Exercise.check calls it, then logs the result for the grader
        try:
            self.build()
        except Exception as error:
            return self._fail("checker-error", None,
                              f"the checker could not build its cases ({type(error).__name__}: "
                              f"{error}); please report this")
        return super()._check(fn)

    # -- one call: a fresh copy of the arguments, the losses and the parameters after it -----

    def _call(self, fn, case):
        args = copy.deepcopy(case.args)
        for index in self.modules.values():  # a parameter's deepcopy drops its .grad
            for original, p in zip(case.args[index].parameters(), args[index].parameters(),
                                   strict=True):
                p.grad = None if original.grad is None else original.grad.clone()
        out = fn(*args, **copy.deepcopy(case.kwargs))
        if out is None:
            return None
        # the base class applies ``adapt`` (here ``_flatten``) to what this lambda returns
        return super()._call(lambda: (out, args), Case((), case.label))

    def _flatten(self, answer):
        out, args = answer
        losses = tuple(out) if isinstance(out, (tuple, list)) else (out,)
        if len(losses) != len(self.loss_names):
            raise ValueError("wrong number of losses")
        values, parts = [], []
        for name, loss in zip(self.loss_names, losses, strict=True):
            value = loss.detach() if hasattr(loss, "detach") else loss
            values.append(np.array([float(value)]))
            parts.append((f"the {name} you returned", ()))
        for module_name, index in self.modules.items():
            for name, p in args[index].named_parameters():
                values.append(p.detach().cpu().double().numpy().ravel())
                parts.append((f"{module_name}'s parameter `{name}` after your step",
                              tuple(p.shape)))
        self._parts, start = [], 0
        for (label, shape), value in zip(parts, values, strict=True):
            self._parts.append((label, start, start + value.size, shape))
            start += value.size
        return np.concatenate(values)

    # -- diagnosis ------------------------------------------------------------------------

    def _check_case(self, fn, case):
        result = super()._check_case(fn, case)
        if result is not None and result.diagnosis == "raised":
            for text, hint in self.raised_hints:
                if text in result.message:
                    return CheckResult(False, f"{result.message}\n→ {hint.rstrip('.')}.",
                                       "raised")
        return result

    def _first_difference(self, got, expected):
        diff = ~np.isclose(got, expected, rtol=self.rtol, atol=self.atol, equal_nan=True)
        i = int(np.argmax(diff))
        for label, start, stop, shape in self._parts:
            if start <= i < stop:
                where = ""
                if shape:
                    index = tuple(int(j) for j in np.unravel_index(i - start, shape))
                    where = f" at index {index}"
                text = (f"{label} is wrong{where}: expected {expected[i]:.6g}, "
                        f"got {got[i]:.6g}")
                if shape and self.update_hint:
                    text += f". {self.update_hint}"
                return text
        return super()._first_difference(got, expected)


# ------------------------------------------------------------------------------ gan_step


def _softplus_t(a):
    """softplus of a tensor, with tensor methods only: max(a, 0) + log1p(exp(-|a|))."""
    return a.clamp(min=0) + (-a.abs()).exp().log1p()


def _d_loss_t(real_logits, fake_logits):
    return _softplus_t(-real_logits).mean() + _softplus_t(fake_logits).mean()


def _gan_step(G, D, opt_G, opt_D, real, z, detach=True, detach_g=False, zero_first=False,
              zero_d=True, zero_g="G", d_loss=_d_loss_t,
              g_loss=lambda a: _softplus_t(-a).mean(), g_steps=("G",), swap_return=False):
    """One GAN step; the keyword arguments swap in the parts a typical mistake gets wrong.

    ``detach_g``: the fake detached in G's step too; ``zero_first``: both ``zero_grad``
    calls at the top instead of before each backward; ``zero_g``: which optimizer the
    generator's step zeroes (None: none); ``g_steps``: the optimizers the generator's step
    steps. ``G(z)`` is computed again for the generator's step, so that a fake not detached
    in D's step does not raise.
    """
    optimizers = {"G": opt_G, "D": opt_D}
    if zero_first:
        opt_D.zero_grad()
        opt_G.zero_grad()
    fake = G(z)
    loss_d = d_loss(D(real), D(fake.detach() if detach else fake))
    if zero_d and not zero_first:
        opt_D.zero_grad()
    loss_d.backward()
    opt_D.step()
    fake = G(z)
    loss_g = g_loss(D(fake.detach() if detach_g else fake))
    if zero_g is not None and not zero_first:
        optimizers[zero_g].zero_grad()
    loss_g.backward()
    for name in g_steps:
        optimizers[name].step()
    losses = (loss_d.item(), loss_g.item())
    return losses[::-1] if swap_return else losses


def _reference_gan_step(G, D, opt_G, opt_D, real, z):
    return _gan_step(G, D, opt_G, opt_D, real, z)


def _gan_cases(torch):
    """Tiny seeded players (2-D noise -> 2-D points -> one logit), in float64."""
    nn = torch.nn

    def players(seed, optimizer):
        torch.manual_seed(seed)
        G = nn.Sequential(nn.Linear(2, 5), nn.LeakyReLU(0.2), nn.Linear(5, 2)).double()
        D = nn.Sequential(nn.Linear(2, 6), nn.LeakyReLU(0.2), nn.Linear(6, 1),
                          nn.Flatten(0)).double()
        return G, D, optimizer(G.parameters()), optimizer(D.parameters())

    def adam(params):
        return torch.optim.Adam(params, lr=0.01, betas=(0.5, 0.999))

    def sgd(params):
        return torch.optim.SGD(params, lr=0.1, momentum=0.9)

    def batch(n, shift=0.0):
        return torch.randn(n, 2, dtype=torch.float64) + shift

    with torch.random.fork_rng(devices=[]):  # the caller's random numbers are left as they were
        fresh = players(1, adam)
        fresh_data = (batch(4, 2.0), batch(4))
        mid = players(2, adam)
        _reference_gan_step(*mid, batch(5, 2.0), batch(5))  # leaves .grad and Adam's moments
        mid_data = (batch(5, 2.0), batch(5))
        uneven = players(3, sgd)
        _reference_gan_step(*uneven, batch(6, 2.0), batch(3))
        uneven_data = (batch(6, 2.0), batch(3))
    return [
        Case((*fresh, *fresh_data), "fresh networks, Adam, 4 real samples and 4 noise vectors"),
        Case((*mid, *mid_data), "mid-training: gradients and Adam's moments left from a "
                                "previous step, 5 and 5"),
        Case((*uneven, *uneven_data), "mid-training with SGD and momentum, 6 real samples and "
                                      "3 noise vectors"),
    ]


_DETACH_HINT = (
    "In the discriminator's step, pass the fake as G(z).detach() (or compute it under "
    "torch.no_grad()): D's step must not send a gradient into G. Do not reach for "
    "retain_graph=True: it only hides the error, D's backward still runs through G for nothing")

gan_step = TrainingStepExercise(
    "gan_step",
    reference=_reference_gan_step,
    build_cases=_gan_cases,
    loss_names=("discriminator's loss", "generator's loss"),
    modules={"G": 0, "D": 1},
    adapt_hint="return the two losses as a pair, (loss_D, loss_G): numbers or 0-d tensors",
    mistakes=[
        Mistake(lambda *a: _gan_step(*a, swap_return=True),
                "the two losses are swapped: return (loss_D, loss_G), the discriminator's "
                "first"),
        Mistake(lambda *a: _gan_step(*a, d_loss=lambda r, f: _d_loss_t(f, r)),
                "the labels are swapped in the discriminator's step: you trained D to call "
                "real samples fake. Real samples are labelled 1, the fakes 0: "
                "loss_D = mean(-log D(x)) + mean(-log(1 - D(G(z)))), "
                "discriminator_loss(D(real), D(fake.detach()))"),
        Mistake(lambda *a: _gan_step(*a, d_loss=lambda r, f: (_softplus_t(-r).sum()
                                                              + _softplus_t(f).sum())
                                     / (len(r) + len(f))),
                "your discriminator's loss is one mean over the real and fake samples "
                "together (as binary cross-entropy on torch.cat([real_logits, fake_logits])): "
                "average each batch on its own and add the two means, as in exercise 1"),
        Mistake(lambda *a: _gan_step(*a, g_loss=lambda f: -_softplus_t(f).mean()),
                "your generator minimises the saturating loss log(1 - D(G(z))) "
                "(generator_loss(..., \"minimax\")): use the non-saturating -log D(G(z)) = "
                "mean(softplus(-a)), generator_loss(D(G(z)), \"non-saturating\"), whose "
                "gradient does not vanish while D rejects the fakes (section 2)"),
        Mistake(lambda *a: _gan_step(*a, g_loss=lambda f: _softplus_t(f).mean()),
                "your generator minimises -log(1 - D(G(z))), the discriminator's target for "
                "the fakes (label 0): that trains G to be caught. G wants its samples called "
                "real, label 1: -log D(G(z)) = mean(softplus(-a))"),
        Mistake(lambda *a: _gan_step(*a, zero_d=False),
                "D's .grad was not zeroed right before the discriminator's backward (forgotten, "
                "or called after step): torch ADDS "
                "each backward's gradient to .grad, and D's .grad still held what the last "
                "generator step put there (its backward runs through D). Call "
                "opt_D.zero_grad() before loss_D.backward()"),
        Mistake(lambda *a: _gan_step(*a, zero_g=None),
                "G's .grad was not zeroed right before the generator's backward (forgotten, or "
                "called after step): torch ADDS "
                "each backward's gradient to .grad, so G stepped with the last step's "
                "gradient plus this one's. Call opt_G.zero_grad() before loss_G.backward()"),
        Mistake(lambda *a: _gan_step(*a, zero_d=False, zero_g=None),
                "neither network's .grad was zeroed right before its backward (forgotten, or "
                "called after step, when the other backward refills it): torch ADDS each "
                "backward's gradient to .grad, so each network stepped with old gradients plus "
                "new ones. Call "
                "opt_D.zero_grad() before loss_D.backward() and opt_G.zero_grad() before "
                "loss_G.backward()"),
        Mistake(lambda *a: _gan_step(*a, detach=False, zero_first=True),
                "G's update also followed the discriminator's loss: the fake was not "
                "detached in D's step, so loss_D.backward() put its gradient into G's .grad, "
                "and your zero_grad calls both come first, so G's step added it to its own. "
                + _DETACH_HINT),
        Mistake(lambda *a: _gan_step(*a, detach_g=True),
                "G did not move: the fake was detached (or made under torch.no_grad()) in the "
                "generator's step too, so loss_G has no path back to G's parameters and G's "
                ".grad stays empty. Detach only in D's step; G's step needs D(G(z)) with its "
                "graph"),
        Mistake(lambda *a: _gan_step(*a, g_steps=("G", "D")),
                "D's parameters moved in the generator's step too: you called opt_D.step() "
                "after loss_G.backward(), and D's .grad then holds the gradient of G's loss. "
                "In G's step only opt_G steps; D's weights stay as they are"),
        Mistake(lambda *a: _gan_step(*a, zero_g="D", g_steps=("D",)),
                "the generator's step uses D's optimizer (opt_D.zero_grad(), opt_D.step()): "
                "G never moves, and D takes a step that helps G fool it. Use opt_G there"),
    ],
    update_hint="The losses are right, so look at the updates: zero_grad before each "
                "backward, the fake detached in D's step, and only opt_G stepping in G's step",
    raised_hints=[
        ("backward through the graph a second time",
         "your fake was not detached in the discriminator's step, so loss_D.backward() ran "
         "through G and freed G's part of the graph, which the generator's backward then "
         "needed. " + _DETACH_HINT),
    ],
)

# The published solutions, and which function there answers which exercise
# (tests/test_exercises.py checks every pair, and every listed mistake).
SOLUTIONS_FILE = "11_gan.py"
EXERCISES = {"discriminator_loss": discriminator_loss, "generator_loss": generator_loss,
             "gan_step": gan_step}
