"""nnlib.models.gan_networks: the GAN losses against hand computations and the exercises'
numpy references, the saturating minimax gradient, and the two networks."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from nnlib.exercises import gan as exercises  # noqa: E402
from nnlib.models import gan_networks  # noqa: E402

LN2 = np.log(2.0)


def t(values):
    return torch.tensor(values, dtype=torch.float64)


def test_losses_by_hand_at_zero_logits():
    # D = 1/2 everywhere: each cross-entropy term is log 2
    assert gan_networks.discriminator_loss(t([0.0, 0.0]), t([0.0])).item() == pytest.approx(2 * LN2)
    assert gan_networks.generator_loss(t([0.0, 0.0])).item() == pytest.approx(LN2)
    assert gan_networks.generator_loss(t([0.0]), "minimax").item() == pytest.approx(-LN2)


def test_discriminator_loss_by_hand():
    real, fake = [1.0, -2.0], [0.5]
    expected = (np.log1p(np.exp(-1.0)) + np.log1p(np.exp(2.0))) / 2 + np.log1p(np.exp(0.5))
    loss = gan_networks.discriminator_loss(t(real), t(fake)).item()
    assert loss == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("case", exercises.discriminator_loss.cases, ids=lambda c: c.label)
def test_discriminator_loss_matches_the_exercise_reference(case):
    real, fake = case.args
    expected = exercises.discriminator_loss.reference(real, fake)
    got = gan_networks.discriminator_loss(t(real), t(fake)).item()
    assert np.isfinite(got)
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("case", exercises.generator_loss.cases, ids=lambda c: c.label)
def test_generator_loss_matches_the_exercise_reference(case):
    (fake,) = case.args
    kind = case.kwargs["kind"]
    expected = exercises.generator_loss.reference(fake, kind)
    got = gan_networks.generator_loss(t(fake), kind).item()
    assert np.isfinite(got)
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_the_minimax_gradient_saturates_where_the_non_saturating_one_does_not():
    # a discriminator that rejects every fake confidently: logits near -10, D ~ 5e-5
    logits = t([-10.0, -11.0, -12.0, -10.5])
    grads = {}
    for kind in gan_networks.GAN_LOSSES:
        a = logits.clone().requires_grad_(True)
        gan_networks.generator_loss(a, kind).backward()
        grads[kind] = a.grad.abs()
    B = len(logits)
    # d/da mean(softplus(-a)) = -sigmoid(-a) / B ~ -1/B; d/da -mean(softplus(a)) = -sigmoid(a) / B
    assert torch.allclose(grads["non-saturating"], torch.full((B,), 1 / B, dtype=torch.float64),
                          rtol=1e-4)
    assert torch.all(grads["minimax"] < 1e-4 / B)
    assert torch.all(grads["minimax"] * 1e3 < grads["non-saturating"])
    # both push the logits up (the fakes towards "real")
    for kind in gan_networks.GAN_LOSSES:
        a = logits.clone().requires_grad_(True)
        gan_networks.generator_loss(a, kind).backward()
        assert torch.all(a.grad < 0)


def test_losses_stay_finite_for_huge_logits():
    big = t([-800.0, 800.0])
    assert torch.isfinite(gan_networks.discriminator_loss(big, big))
    for kind in gan_networks.GAN_LOSSES:
        assert torch.isfinite(gan_networks.generator_loss(big, kind))


def test_unknown_loss_is_a_clear_error():
    with pytest.raises(ValueError, match="non-saturating"):
        gan_networks.generator_loss(t([0.0]), "wasserstein")


def test_networks_shapes():
    G = gan_networks.build_generator(noise_dim=3, hidden=16, out_dim=64, output="sigmoid")
    x = G(torch.randn(5, 3))
    assert x.shape == (5, 64) and torch.all((x > 0) & (x < 1))
    D = gan_networks.build_discriminator(in_dim=64, hidden=16)
    assert D(x).shape == (5,)
    with pytest.raises(ValueError, match="output"):
        gan_networks.build_generator(output="tanh")
