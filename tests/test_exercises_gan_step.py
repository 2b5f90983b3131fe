"""The GAN training-step exercise (gan_step) and its checker, TrainingStepExercise, beyond the
generic checks: the reference against a step written with torch's own binary cross-entropy,
the cases it promises (fresh and mid-training), copies that keep the reference safe from
the learner, the diagnoses of a step that raises or updates the wrong thing, and a checker
that works without importing torch itself."""

import copy
import subprocess
import sys

import torch
import torch.nn.functional as F
from helpers import load_solutions

from nnlib.exercises import gan

STEP = gan.gan_step


def bce_step(G, D, opt_G, opt_D, real, z):
    """A correct step written differently: zero_grad first, one pass of D over both batches,
    fakes under no_grad, binary cross-entropy with labels, losses returned as tensors."""
    opt_D.zero_grad()
    opt_G.zero_grad()
    with torch.no_grad():
        fake = G(z)
    logits = D(torch.cat([real, fake]))
    r, f = logits[:len(real)], logits[len(real):]
    loss_d = (F.binary_cross_entropy_with_logits(r, torch.ones_like(r))
              + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f)))
    loss_d.backward()
    opt_D.step()
    out = D(G(z))
    loss_g = F.binary_cross_entropy_with_logits(out, torch.ones_like(out))
    loss_g.backward()
    opt_G.step()
    return loss_d, loss_g


def parameters(case):
    G, D = case.args[:2]
    return [p.detach().clone() for p in (*G.parameters(), *D.parameters())]


def test_a_step_written_with_torchs_binary_cross_entropy_is_accepted():
    result = STEP.check(bce_step)
    assert result.passed, result.message


def test_the_reference_equals_that_step_on_every_case():
    STEP.build()
    for case in STEP.cases:
        ours = STEP._call(STEP.reference, case)
        theirs = STEP._call(bce_step, case)
        assert torch.allclose(torch.as_tensor(ours), torch.as_tensor(theirs), rtol=1e-10,
                              atol=1e-10), case.label


def test_the_cases_are_fresh_then_mid_training():
    STEP.build()
    fresh, *mid = STEP.cases
    G, D, opt_G, opt_D = fresh.args[:4]
    assert all(p.grad is None for p in (*G.parameters(), *D.parameters()))
    assert not opt_G.state and not opt_D.state
    for case in mid:
        G, D, opt_G, opt_D = case.args[:4]
        assert all(p.grad is not None and p.grad.abs().sum() > 0
                   for p in (*G.parameters(), *D.parameters())), case.label
        assert opt_G.state and opt_D.state, case.label  # Adam's moments, SGD's momentum
    assert {type(c.args[2]).__name__ for c in STEP.cases} == {"Adam", "SGD"}
    uneven = STEP.cases[-1]
    assert len(uneven.args[4]) != len(uneven.args[5])  # 6 real samples, 3 noise vectors


def test_the_learner_cannot_change_the_cases_or_the_reference():
    STEP.build()
    before = [parameters(case) for case in STEP.cases]

    def vandal(G, D, opt_G, opt_D, real, z):
        with torch.no_grad():
            for p in (*G.parameters(), *D.parameters()):
                p.mul_(0)
            real.mul_(0)
        opt_D.param_groups[0]["lr"] = 100.0
        return 0.0, 0.0

    assert not STEP.check(vandal).passed
    after = [parameters(case) for case in STEP.cases]
    assert all(torch.equal(a, b) for x, y in zip(before, after, strict=True)
               for a, b in zip(x, y, strict=True))
    assert STEP.check(load_solutions(gan).gan_step).passed


def test_each_optimizer_holds_its_own_copy_of_the_parameters():
    STEP.build()
    case = STEP.cases[1]
    G, D, opt_G, opt_D, *_ = copy.deepcopy(case.args)
    assert {id(p) for p in G.parameters()} == {id(p) for p in opt_G.param_groups[0]["params"]}
    assert {id(p) for p in D.parameters()} == {id(p) for p in opt_D.param_groups[0]["params"]}


def test_a_fake_not_detached_and_reused_raises_and_is_told_to_detach():
    def reused(G, D, opt_G, opt_D, real, z):
        fake = G(z)
        loss_d = F.softplus(-D(real)).mean() + F.softplus(D(fake)).mean()
        opt_D.zero_grad()
        loss_d.backward()
        opt_D.step()
        loss_g = F.softplus(-D(fake)).mean()
        opt_G.zero_grad()
        loss_g.backward()
        opt_G.step()
        return loss_d.item(), loss_g.item()

    result = STEP.check(reused)
    assert result.diagnosis == "raised"
    assert "G(z).detach()" in result.message and "retain_graph=True" in result.message


def test_a_wrong_update_is_named_by_parameter_and_points_at_the_update():
    def nudged(*args):
        losses = bce_step(*args)
        with torch.no_grad():
            args[1][2].bias += 0.5  # D's last linear layer
        return losses

    result = STEP.check(nudged)
    assert result.diagnosis == "values"
    assert "D's parameter `2.bias` after your step is wrong at index (0,)" in result.message
    assert "zero_grad before each backward" in result.message


def test_one_loss_instead_of_two_asks_for_the_pair():
    result = STEP.check(lambda *args: bce_step(*args)[0])
    assert result.diagnosis == "form" and "(loss_D, loss_G)" in result.message


def test_building_the_cases_leaves_the_callers_random_numbers_alone():
    fresh = gan.TrainingStepExercise("gan_step", STEP.reference, STEP.build_cases,
                                     STEP.loss_names, STEP.modules)
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    fresh.build()
    assert torch.equal(torch.rand(3), expected)
    # and the cases are the same each time they are built
    assert all(torch.equal(a, b) for case_a, case_b in zip(fresh.cases, STEP.cases, strict=True)
               for a, b in zip(parameters(case_a), parameters(case_b), strict=True))


def test_importing_the_checkers_loads_no_torch_and_checking_a_step_does():
    code = """
import sys
from nnlib.exercises import gan, attention
before = "torch" in sys.modules

def unsolved(*args):
    raise NotImplementedError

print(before, gan.gan_step.check(unsolved).diagnosis, attention.lm_step.check(unsolved).diagnosis,
      "torch" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "not-implemented", "not-implemented", "True"]

