"""The GAN exercises (discriminator_loss, generator_loss) beyond the generic checks: values
worked out by hand, the references against nnlib.losses, the cases they promise, the
diagnosis of a numerically unstable answer, and the vanishing gradient of the minimax loss
that the notebook teaches."""

import numpy as np
import pytest
from helpers import load_solutions

from nnlib.exercises import gan
from nnlib.losses import binary_cross_entropy_with_logits

LN2 = np.log(2.0)


def solution(name):
    return getattr(load_solutions(gan), name)


def naive_sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


# ---------------------------------------------------------------------- values by hand


def test_all_logits_zero_give_ln2_per_term():
    # D = 1/2 everywhere: each term is -log(1/2) = ln 2
    d_loss, g_loss = gan.discriminator_loss.reference, gan.generator_loss.reference
    assert d_loss(np.zeros(3), np.zeros(5)) == pytest.approx(2 * LN2, rel=1e-15)
    assert g_loss(np.zeros(4), kind="non-saturating") == pytest.approx(LN2, rel=1e-15)
    assert g_loss(np.zeros(4), kind="minimax") == pytest.approx(-LN2, rel=1e-15)


def test_a_small_case_by_hand():
    # D(x) = sigmoid(ln 3) = 3/4 and D(G(z)) = sigmoid(-ln 3) = 1/4, for both samples
    real, fake = np.full(2, np.log(3.0)), np.array([-np.log(3.0)])
    d = gan.discriminator_loss.reference(real, fake)
    assert d == pytest.approx(-np.log(0.75) - np.log(0.75), rel=1e-14)
    g_ns = gan.generator_loss.reference(fake, kind="non-saturating")
    g_mm = gan.generator_loss.reference(fake, kind="minimax")
    assert g_ns == pytest.approx(-np.log(0.25), rel=1e-14)
    assert g_mm == pytest.approx(np.log(0.75), rel=1e-14)


def test_the_references_are_binary_cross_entropies_from_nnlib_losses():
    for case in gan.discriminator_loss.cases:
        real, fake = case.args
        expected = (binary_cross_entropy_with_logits(real, np.ones_like(real))[0]
                    + binary_cross_entropy_with_logits(fake, np.zeros_like(fake))[0])
        assert gan.discriminator_loss.reference(real, fake) == pytest.approx(
            expected, rel=1e-12, abs=1e-14), case.label
    for case in gan.generator_loss.cases:
        (fake,), kind = case.args, case.kwargs["kind"]
        ns = binary_cross_entropy_with_logits(fake, np.ones_like(fake))[0]  # -log D
        fake_term = binary_cross_entropy_with_logits(fake, np.zeros_like(fake))[0]
        expected = ns if kind == "non-saturating" else -fake_term  # log(1 - D)
        assert gan.generator_loss.reference(fake, kind=kind) == pytest.approx(
            expected, rel=1e-12, abs=1e-14), case.label


def test_the_reference_rejects_an_unknown_kind():
    with pytest.raises(ValueError, match="non-saturating"):
        gan.generator_loss.reference(np.zeros(2), kind="wasserstein")
    with pytest.raises(ValueError, match="non-saturating"):
        solution("generator_loss")(np.zeros(2), kind="wasserstein")


# --------------------------------------------------------------- the teaching point


def _grad(f, x, h=1e-6):
    """Centred finite differences of the scalar ``f`` at ``x``."""
    g = np.zeros_like(x)
    for i in range(x.size):
        step = np.zeros_like(x)
        step[i] = h
        g[i] = (f(x + step) - f(x - step)) / (2 * h)
    return g


def test_the_minimax_loss_saturates_where_the_non_saturating_one_does_not():
    # early in training D rejects every fake: D(G(z)) = sigmoid(-10) ~ 5e-5
    B, fake = 4, np.full(4, -10.0)
    loss = gan.generator_loss.reference
    g_ns = _grad(lambda f: loss(f, kind="non-saturating"), fake)
    g_mm = _grad(lambda f: loss(f, kind="minimax"), fake)
    # d/da -log sigmoid(a) / B = -(1 - D) / B ~ -1/B: a full-size push towards "real"
    np.testing.assert_allclose(g_ns, -1 / B, rtol=1e-4)
    # d/da log(1 - sigmoid(a)) / B = -D / B ~ -1e-5: the gradient has all but vanished
    assert np.all(np.abs(g_mm) < 2e-5) and np.all(g_mm < 0)
    # both point the same way (raise the fakes' logits), 20000 times apart
    assert np.all(g_ns / g_mm > 2e4)
    # the exact gradients, for the record: -(1 - D) / B and -D / B
    D = naive_sigmoid(fake)
    np.testing.assert_allclose(g_ns, -(1 - D) / B, rtol=1e-5)
    np.testing.assert_allclose(g_mm, -D / B, rtol=1e-4)


def test_the_cases_hold_the_promised_edge_cases():
    d_cases, g_cases = gan.discriminator_loss.cases, gan.generator_loss.cases
    sizes = [(len(c.args[0]), len(c.args[1])) for c in d_cases]
    assert sizes[0][0] != sizes[0][1], "the first case has batches of different sizes"
    assert (1, 1) in sizes
    assert any(not np.any(np.concatenate(c.args)) for c in d_cases), "all logits 0"
    assert {c.kwargs["kind"] for c in g_cases} == {"non-saturating", "minimax"}
    assert any(len(c.args[0]) == 1 for c in g_cases), "a batch of one"
    # the minimax loss is checked where it saturates: every fake logit below -5
    assert any(c.kwargs["kind"] == "minimax" and np.all(c.args[0] < -5) for c in g_cases)
    # the first discriminator case names "logits taken for probabilities" with a finite loss
    real, fake = d_cases[0].args
    assert np.all(real > 0) and np.all(fake < 1)
    for case in (*d_cases, *g_cases):
        assert all(np.asarray(a).dtype == np.float64 for a in case.args), case.label


@pytest.mark.parametrize("exercise", [gan.discriminator_loss, gan.generator_loss],
                         ids=lambda e: e.name)
def test_the_last_cases_overflow_the_textbook_sigmoid(exercise):
    large = [c for c in exercise.cases if "large" in c.label]
    assert large and large[-1] is exercise.cases[-1]
    with np.errstate(all="ignore"):
        for case in large:
            logits = np.concatenate(case.args)
            assert np.abs(logits).max() > 709  # exp(-a) overflows
            p = naive_sigmoid(logits)
            assert np.any(p == 0) or np.any(p == 1)  # and log(p) or log(1 - p) is -inf
            assert np.isfinite(exercise.reference(*case.args, **case.kwargs))


# --------------------------------------------------------------------------- diagnoses


def naive_discriminator_loss(real_logits, fake_logits):
    return (-np.mean(np.log(naive_sigmoid(real_logits)))
            - np.mean(np.log(1 - naive_sigmoid(fake_logits))))


def naive_generator_loss(fake_logits, kind):
    d = naive_sigmoid(fake_logits)
    return -np.mean(np.log(d)) if kind == "non-saturating" else np.mean(np.log(1 - d))


@pytest.mark.parametrize("exercise, naive", [
    (gan.discriminator_loss, naive_discriminator_loss),
    (gan.generator_loss, naive_generator_loss),
], ids=["discriminator_loss", "generator_loss"])
def test_the_textbook_formula_passes_moderate_cases_and_is_taught_the_stable_form(exercise,
                                                                                 naive):
    result = exercise.check(naive)
    assert result.diagnosis == "mistake" and "large logits" in result.message
    assert "infinite" in result.message and "np.log1p(np.exp(-abs(a)))" in result.message
    # every case before the large ones passes
    moderate = [c for c in exercise.cases if "large" not in c.label]
    for case in moderate:
        got = naive(*case.args, **case.kwargs)
        assert np.isclose(got, exercise.reference(*case.args, **case.kwargs),
                          rtol=exercise.rtol, atol=exercise.atol), case.label


def test_a_naive_softplus_that_overflows_is_taught_the_stable_form_too():
    def overflowing(real_logits, fake_logits):
        return np.mean(np.log1p(np.exp(-real_logits))) + np.mean(np.log1p(np.exp(fake_logits)))

    result = gan.discriminator_loss.check(overflowing)
    assert result.diagnosis == "mistake" and "softplus(a) = log(1 + exp(a))" in result.message


def test_a_nan_from_exp_over_exp_is_reported_as_not_finite():
    # exp(a) / (1 + exp(a)) is inf / inf = NaN at a = 800: not the same answer as the
    # textbook formula's infinity, so the framework's overflow diagnosis speaks
    def nan_sigmoid(real_logits, fake_logits):
        d_real = np.exp(real_logits) / (1 + np.exp(real_logits))
        d_fake = np.exp(fake_logits) / (1 + np.exp(fake_logits))
        return -np.mean(np.log(d_real)) - np.mean(np.log(1 - d_fake))

    result = gan.discriminator_loss.check(nan_sigmoid)
    assert result.diagnosis == "not-finite" and "large logits" in result.message
    assert "numerically stable form" in result.message


def test_logits_taken_for_probabilities_are_named_on_the_first_case():
    def log_of_logits(real_logits, fake_logits):
        return -np.mean(np.log(real_logits)) - np.mean(np.log(1 - fake_logits))

    result = gan.discriminator_loss.check(log_of_logits)
    assert result.diagnosis == "mistake" and "those are logits" in result.message
    assert "4 real and 3 fake" in result.message


def test_one_mean_over_both_batches_is_told_apart_from_half_the_sum():
    one_mean, half_sum = gan.discriminator_loss.mistakes[1:3]
    assert "one mean" in gan.discriminator_loss.check(one_mean.wrong).message
    assert "averaged the two terms" in gan.discriminator_loss.check(half_sum.wrong).message


def test_the_generator_kind_is_passed_by_keyword_and_named_in_the_diagnosis():
    def minimax_sign(fake_logits, *, kind):  # keyword-only: the cases pass kind=...
        ns = solution("generator_loss")
        return ns(fake_logits, kind) if kind == "non-saturating" else -ns(fake_logits, kind)

    result = gan.generator_loss.check(minimax_sign)
    assert result.diagnosis == "mistake" and "[minimax]" in result.message
    assert "MAXIMISE" in result.message


@pytest.mark.parametrize("exercise", [gan.discriminator_loss, gan.generator_loss],
                         ids=lambda e: e.name)
def test_a_correct_float32_answer_is_accepted(exercise):
    fn = solution(exercise.name)

    def in_float32(*args, **kwargs):
        return fn(*(np.asarray(a, dtype=np.float32) for a in args), **kwargs)

    result = exercise.check(in_float32)
    assert result.passed, result.message


def test_success_message_lists_the_cases():
    result = gan.generator_loss.check(solution("generator_loss"))
    assert result.passed and "correct on all 8 cases" in result.message
    assert "[minimax]" in result.message
