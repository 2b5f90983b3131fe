"""Generative adversarial networks in torch for notebook 11: 2-D toy sets, then digits.

A generator ``G`` maps noise ``z ~ N(0, I)`` to samples; a discriminator ``D`` maps a
sample to a logit ``a``, with ``D = sigmoid(a)`` its probability that the sample is
real. They take turns (:meth:`GAN.step`):

* ``d_steps`` discriminator updates on the binary cross-entropy of calling real
  samples real and generated ones fake (:func:`discriminator_loss`);
* one generator update on :func:`generator_loss`: the non-saturating
  ``-log D(G(z))`` (the usual choice) or the original game's ``log(1 - D(G(z)))``
  ("minimax"), whose gradient vanishes while ``D`` rejects every fake.

The pieces a live view needs are cheap: a step of the 2-D GAN takes about a
millisecond on one CPU core, :meth:`GAN.decision` is the discriminator's map,
:meth:`GAN.generator_arrows` the directions in which the generator's loss pushes
its samples, and :meth:`GAN.sample` draws from the same noise every call, so that
successive frames move smoothly.

The 2-D data sets are ``nnlib.data.toy.toy_data``; the measures of a GAN (how many
modes of the ring it covers, how digit-like its digits are) are in
``nnlib.models.gan_metrics``.
``PRESETS`` hold a well-tuned setting and one that collapses onto few modes;
:func:`fit_ring_gan` and :func:`fit_digit_gan` train with them. torch is imported
only inside the functions that need it.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np

from nnlib.checks import check_float, check_int
from nnlib.data import load_digits
from nnlib.data.toy import toy_data
from nnlib.models.gan_metrics import mode_coverage
from nnlib.models.gan_networks import (
    build_discriminator,
    build_generator,
    check_loss,
    discriminator_loss,
    generator_loss,
)

__all__ = ["GANSettings", "PRESETS", "GAN", "RingRecipe", "RING_RECIPE", "fit_ring_gan",
           "DIGIT_SETTINGS", "DIGIT_STEPS", "digit_gan", "fit_digit_gan"]

# --------------------------------------------------------------------------- settings


class GANSettings(NamedTuple):
    lr_g: float  # the generator's Adam learning rate
    lr_d: float  # the discriminator's
    d_steps: int  # discriminator updates per generator update
    loss: str  # the generator's loss, one of GAN_LOSSES
    noise_dim: int  # size of z
    hidden: int  # units per hidden layer, generator and discriminator
    batch_size: int  # real samples and generated samples per update


def _check_settings(settings) -> GANSettings:
    if not isinstance(settings, GANSettings):
        raise ValueError(f"settings must be a GANSettings, got {type(settings).__name__}")
    check_float("lr_g", settings.lr_g, 0.0, strict=True)
    check_float("lr_d", settings.lr_d, 0.0, strict=True)
    check_int("d_steps", settings.d_steps, 1)
    check_loss(settings.loss)
    check_int("noise_dim", settings.noise_dim, 1)
    check_int("hidden", settings.hidden, 1)
    check_int("batch_size", settings.batch_size, 1)
    return settings


# Measured with fit_ring_gan (RING_RECIPE: 2,500 steps, the last half annealed), seeds 0-4:
# "well tuned" covers 7, 7, 8, 7, 6 of the 8 modes (70-76% of the samples within 3 std of a
# mode). "mode collapse" gives the generator a learning rate 10 times the discriminator's,
# both in the usual range for Adam: the generator drags every sample to the spot the
# discriminator currently rates most "real" faster than the discriminator can follow; once
# it has learned that the spot is fake, the generator hops to another (seeds 0-4, the
# constant-rate first half, a snapshot every 50 steps: 14-21 of 25 snapshots collapsed, the
# spot in 6-8 of the 8 sectors of the ring, 11-18 jumps of more than 30 degrees); it keeps
# hopping while the rates are annealed and ends wherever it is (93-99% of the samples within
# 0.5 of their median, 0 or 1 mode covered; 85-99% with two threads and older instruction
# sets, whose different round-off sends the chaotic game elsewhere). The minimax loss, with
# otherwise well-tuned settings, trains about as well as the non-saturating one on the ring
# (6-8 modes, seeds 0-2): the discriminator never rejects the fakes confidently enough here
# for its gradient to vanish.
PRESETS = {
    "well tuned": GANSettings(lr_g=1e-3, lr_d=1e-3, d_steps=1, loss="non-saturating",
                              noise_dim=2, hidden=64, batch_size=256),
    "mode collapse": GANSettings(lr_g=3e-3, lr_d=3e-4, d_steps=1, loss="non-saturating",
                                 noise_dim=2, hidden=64, batch_size=256),
}


def _check_preset(preset):
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {tuple(PRESETS)}, got {preset!r}")
    return PRESETS[preset]


# --------------------------------------------------------------------------- the game


class GAN:
    """A generator and a discriminator learning to copy ``real`` samples, one step at a time.

    Both are MLPs (:func:`build_generator`, :func:`build_discriminator`) trained by Adam
    with ``betas=(0.5, 0.999)`` (the DCGAN choice: less momentum for a moving target).
    Everything random is seeded: weights, the real batches, the noise; two GANs with the
    same data, settings and seed take the same steps.

    Args:
        real: ``(N, dim)`` real samples (numpy).
        settings: a ``GANSettings`` (``PRESETS["well tuned"]`` by default).
        seed: seeds the weights and every batch.
        device: where to train; ``None`` picks ``nnlib.models.training.default_device()``.
        output: the generator's output, ``None`` (linear) or ``"sigmoid"`` (images in [0, 1]).
        depth: hidden layers of each network.

    Attributes:
        generator, discriminator: the torch modules.
        settings: the current ``GANSettings``; change it with :meth:`update_settings`.
        history: ``{"d_loss": [...], "g_loss": [...], "d_real": [...], "d_fake": [...]}``,
            one value per step.
        steps: generator updates so far.
        diverged: a loss became NaN or infinite; the GAN stops updating until :meth:`reset`.
    """

    def __init__(self, real, settings=PRESETS["well tuned"], seed=0, device=None, output=None,
                 depth=2):
        import torch

        from nnlib.models.training import resolve_device

        real = np.asarray(real)
        if real.ndim != 2 or len(real) < 1 or real.dtype.kind not in "iuf":
            raise ValueError(f"real must be a (N, dim) array of real samples, got shape "
                             f"{real.shape} and dtype {real.dtype}")
        if not np.all(np.isfinite(real)):
            raise ValueError("real must hold finite values")
        if output not in (None, "sigmoid"):
            raise ValueError(f"output must be None or 'sigmoid', got {output!r}")
        self.settings = _check_settings(settings)
        self.device = resolve_device(device)
        self.real = torch.as_tensor(real, dtype=torch.float32, device=self.device)
        self.dim = real.shape[1]
        self.output = output
        self.depth = check_int("depth", depth, 1)
        self.reset(seed)

    # ------------------------------------------------------------------ state

    def reset(self, seed=None):
        """Fresh networks, optimisers, history and noise (``seed``: a new one, or the same)."""
        import torch

        if seed is not None:
            check_int("seed", seed, 0)
            self.seed = int(seed)
        s = self.settings
        self.generator = build_generator(s.noise_dim, s.hidden, self.dim, self.depth,
                                         self.seed, self.output).to(self.device)
        self.discriminator = build_discriminator(self.dim, s.hidden, self.depth,
                                                 self.seed + 1).to(self.device)
        # the fused Adam updates all tensors in one kernel: 3x faster on small CPU networks
        fused = {"fused": True} if self.device.type in ("cpu", "cuda") else {}
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=s.lr_g, betas=(0.5, 0.999),
                                      **fused)
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=s.lr_d,
                                      betas=(0.5, 0.999), **fused)
        self._batches = torch.Generator().manual_seed(self.seed)  # real batches and noise
        self._fresh = torch.Generator().manual_seed(self.seed + 2)  # sample(fixed=False)
        self._fixed_gen = torch.Generator().manual_seed(self.seed + 3)
        self._fixed_noise = torch.zeros(0, s.noise_dim)
        self.history = {"d_loss": [], "g_loss": [], "d_real": [], "d_fake": []}
        self.steps = 0
        self.diverged = False

    def update_settings(self, **changes):
        """Change settings by name: learning rates, ``d_steps``, ``loss`` and ``batch_size``
        take effect at the next step (the networks keep training); ``noise_dim`` or
        ``hidden`` change the networks' shapes and so :meth:`reset` them (same seed)."""
        unknown = set(changes) - set(GANSettings._fields)
        if unknown:
            raise ValueError(f"unknown settings {sorted(unknown)}; the settings are "
                             f"{GANSettings._fields}")
        old = self.settings
        self.settings = _check_settings(old._replace(**changes))
        if (self.settings.noise_dim, self.settings.hidden) != (old.noise_dim, old.hidden):
            self.reset()
            return
        self._scale_lr(1.0)

    # ------------------------------------------------------------------ training

    def _noise(self, n):
        import torch

        return torch.randn(n, self.settings.noise_dim, generator=self._batches).to(self.device)

    def _real_batch(self, n):
        import torch

        index = torch.randint(len(self.real), (n,), generator=self._batches)
        return self.real[index.to(self.device)]

    def step(self) -> dict:
        """``d_steps`` discriminator updates, then one generator update.

        Returns (and appends to ``history``) the last discriminator update's loss,
        ``d_real`` and ``d_fake`` (its mean probability "real" on the real and on the
        generated batch, before the update), and the generator's loss. A NaN or
        infinite loss sets ``diverged`` and skips that update; once diverged, ``step``
        changes nothing and returns the last record.
        """
        import torch

        if self.diverged:
            return {key: values[-1] for key, values in self.history.items()}
        s = self.settings
        B = s.batch_size
        G, D = self.generator, self.discriminator
        for _ in range(s.d_steps):
            real = self._real_batch(B)
            with torch.no_grad():
                fake = G(self._noise(B))  # (B, dim), no gradient into G
            logits = D(torch.cat([real, fake]))  # (2B,): one pass over both batches
            real_logits, fake_logits = logits[:B], logits[B:]
            d_loss = discriminator_loss(real_logits, fake_logits)
            if not torch.isfinite(d_loss):
                return self._diverge(d_loss, float("nan"), real_logits, fake_logits)
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
        g_loss = generator_loss(D(G(self._noise(B))), s.loss)
        if not torch.isfinite(g_loss):
            return self._diverge(d_loss, g_loss, real_logits, fake_logits)
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        return self._record(d_loss, g_loss, real_logits, fake_logits)

    def _record(self, d_loss, g_loss, real_logits, fake_logits):
        import torch

        with torch.no_grad():
            record = {"d_loss": float(d_loss), "g_loss": float(g_loss),
                      "d_real": float(torch.sigmoid(real_logits).mean()),
                      "d_fake": float(torch.sigmoid(fake_logits).mean())}
        for key, value in record.items():
            self.history[key].append(value)
        self.steps += 1
        return record

    def _diverge(self, d_loss, g_loss, real_logits, fake_logits):
        self.diverged = True
        return self._record(d_loss, g_loss, real_logits, fake_logits)

    def train(self, steps, progress=None, anneal=0.0, callback=None, callback_every=None) -> dict:
        """Take ``steps`` steps (fewer if the GAN diverges); returns ``history``.

        Args:
            steps: generator updates.
            progress: a ``nnlib.display.widgets.TrainingMonitor(steps, xlabel="step")`` or anything
                with ``update(step, **metrics)``: the losses every ``max(1, steps // 100)``
                steps, then ``finish()``.
            anneal: the share of these steps, at their end, over which both learning
                rates decay linearly towards 0 (0: constant rates). Annealing freezes the
                game where it stands, sharpening the modes the generator has found; the
                rates of ``settings`` are restored afterwards.
            callback: ``callback(gan)`` every ``callback_every`` steps (default
                ``steps // 10``) and at the end, e.g. to draw samples as training goes.
        """
        steps = check_int("steps", steps, 0)
        anneal = check_float("anneal", anneal, 0.0)
        if anneal > 1:
            raise ValueError(f"anneal must be in [0, 1], got {anneal!r}")
        start = steps - round(anneal * steps)  # the first annealed step
        every = max(1, steps // 100)
        callback_every = check_int("callback_every", callback_every if callback_every is not None
                                    else max(1, steps // 10), 1)
        for i in range(steps):
            if i >= start:
                self._scale_lr((steps - i) / (steps - start))  # 1, ..., 1 / (steps - start)
            record = self.step()
            if progress is not None and ((i + 1) % every == 0 or i + 1 == steps
                                         or self.diverged):
                progress.update(i + 1, **{"discriminator loss": record["d_loss"],
                                          "generator loss": record["g_loss"]})
            if callback is not None and ((i + 1) % callback_every == 0 or i + 1 == steps):
                callback(self)
            if self.diverged:
                break
        self._scale_lr(1.0)
        if progress is not None and hasattr(progress, "finish"):
            progress.finish()
        return self.history

    def _scale_lr(self, factor):
        for optimizer, lr in ((self.opt_g, self.settings.lr_g), (self.opt_d, self.settings.lr_d)):
            for group in optimizer.param_groups:
                group["lr"] = lr * factor

    # ------------------------------------------------------------------ looking at it

    def _fixed(self, n):
        """The first ``n`` rows of a fixed pool of noise (grown on demand, never redrawn)."""
        import torch

        missing = n - len(self._fixed_noise)
        if missing > 0:
            more = torch.randn(missing, self.settings.noise_dim, generator=self._fixed_gen)
            self._fixed_noise = torch.cat([self._fixed_noise, more])
        return self._fixed_noise[:n].to(self.device)

    def sample(self, n=512, fixed=True) -> np.ndarray:
        """``(n, dim)`` generated samples; ``fixed=True`` uses the same noise every call."""
        import torch

        n = check_int("n", n, 1)
        if fixed:
            z = self._fixed(n)
        else:
            z = torch.randn(n, self.settings.noise_dim, generator=self._fresh).to(self.device)
        with torch.no_grad():
            return self.generator(z).cpu().numpy()

    def _points(self, points):
        import torch

        points = np.asarray(points, dtype=np.float32)
        if points.ndim != 2 or points.shape[1] != self.dim:
            raise ValueError(f"points must have shape (m, {self.dim}), got {points.shape}")
        return torch.as_tensor(points, device=self.device)

    def decision(self, points) -> np.ndarray:
        """``(m,)`` the discriminator's probability "real", ``D(x) = sigmoid(logit)``, at
        ``points (m, dim)`` (a grid, for the heatmap)."""
        import torch

        x = self._points(points)
        with torch.no_grad():
            return torch.sigmoid(self.discriminator(x)).cpu().numpy()

    def generator_arrows(self, n=64):
        """Where the generator's loss pushes its samples: ``(points, directions)``, ``(n, dim)``
        each.

        ``points`` are the first ``n`` fixed samples (those of ``sample(fixed=True)``), and
        ``directions[i] = -d l(D(x_i)) / d x_i`` with ``l`` the generator's loss on one
        sample: the direction (and size) in which a generator step moves ``x_i``, as far as
        its own weights allow. The discriminator's gradient alone decides them.
        """
        n = check_int("n", n, 1)
        import torch

        with torch.no_grad():
            x = self.generator(self._fixed(n))
        x.requires_grad_(True)
        loss = generator_loss(self.discriminator(x), self.settings.loss) * n  # sum over samples
        (grad,) = torch.autograd.grad(loss, x)
        return x.detach().cpu().numpy(), (-grad).cpu().numpy()


# --------------------------------------------------------------------------- the ring


class RingRecipe(NamedTuple):
    steps: int  # generator updates
    anneal: float  # share of the steps, at the end, with linearly decaying learning rates
    n_real: int  # samples of toy_data("ring") to learn from
    n_eval: int  # fresh generated samples that mode_coverage counts


RING_RECIPE = RingRecipe(steps=2500, anneal=0.5, n_real=2000, n_eval=2000)


def fit_ring_gan(preset="well tuned", seed=0, steps=None, progress=None, device=None,
                 recipe=RING_RECIPE, callback=None, callback_every=None):
    """Train a GAN on the ring of 8 Gaussians with a preset; returns ``(gan, coverage)``.

    ``recipe.steps`` steps (``steps`` overrides it), the learning rates annealed over the
    last ``recipe.anneal`` of them, on ``toy_data("ring", recipe.n_real, seed)``;
    ``coverage`` is :func:`mode_coverage` of ``recipe.n_eval`` fresh samples.
    ``callback(gan)`` every ``callback_every`` steps, as in :meth:`GAN.train`: e.g. to
    keep ``gan.sample(500)`` as snapshots of the run.
    """
    settings = _check_preset(preset)
    steps = recipe.steps if steps is None else steps
    gan = GAN(toy_data("ring", recipe.n_real, seed=seed), settings, seed=seed, device=device)
    gan.train(steps, progress, anneal=recipe.anneal, callback=callback,
              callback_every=callback_every)
    return gan, mode_coverage(gan.sample(recipe.n_eval, fixed=False))


# --------------------------------------------------------------------------- digits

# Measured (fit_digit_gan, seeds 0-2, 1,000 samples): 69-74% classified confidently, all 10
# classes present (the real test digits: 91%, 10); 11-13 s on one CPU core.
DIGIT_SETTINGS = GANSettings(lr_g=2e-3, lr_d=2e-3, d_steps=1, loss="non-saturating",
                             noise_dim=32, hidden=256, batch_size=64)
DIGIT_STEPS = 2500
DIGIT_ANNEAL = 0.5  # share of the steps with linearly decaying learning rates


def digit_gan(seed=0, settings=None, device=None):
    """An untrained GAN on ``load_digits()``'s training images, flattened to 64 values in
    [0, 1], with a sigmoid generator (the images' scale) and ``settings`` (default
    ``DIGIT_SETTINGS``): what ``fit_digit_gan`` trains and the live digit view steps."""
    data = load_digits(dtype=np.float32)
    return GAN(data.x_train.reshape(len(data.x_train), 64),
               DIGIT_SETTINGS if settings is None else settings, seed=seed, device=device,
               output="sigmoid")


def fit_digit_gan(seed=0, steps=None, progress=None, device=None, callback=None,
                  callback_every=None):
    """Train a GAN on ``load_digits()``'s training images, flattened to 64 values in [0, 1].

    The generator ends in a sigmoid (the images' scale); ``DIGIT_SETTINGS``, ``steps``
    defaults to ``DIGIT_STEPS``. ``callback(gan)``, if given, is called every
    ``callback_every`` steps (default ``steps // 10``) and at the end, e.g. to draw
    samples as training goes.
    """
    steps = DIGIT_STEPS if steps is None else check_int("steps", steps, 0)
    gan = digit_gan(seed, device=device)
    start = time.perf_counter()
    gan.train(steps, progress, anneal=DIGIT_ANNEAL, callback=callback,
              callback_every=callback_every)
    gan.seconds = time.perf_counter() - start
    return gan

