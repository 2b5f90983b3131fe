"""The transformer exercises added for multi-head attention (multi_head_attention) and a
language model's training step (lm_step), beyond the generic checks: the references against
nnlib.attention and torch's cross-entropy, the learner's own attention passed through, the
tiny model's causal mask, and the diagnoses of a step that raises."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import load_solutions

from nnlib.attention import multi_head_attention_forward
from nnlib.exercises import attention

MHA = attention.multi_head_attention
LM = attention.lm_step


def solution(name):
    return getattr(load_solutions(attention), name)


# ------------------------------------------------------------------- multi_head_attention


@pytest.mark.parametrize("case", MHA.cases, ids=lambda c: c.label)
def test_mha_reference_is_nnlib_multi_head_attention(case):
    x, params, h, _ = case.args
    expected, _ = multi_head_attention_forward(x, x, params, h)
    np.testing.assert_allclose(MHA.reference(*case.args), expected, rtol=1e-12, atol=1e-12)


def test_the_published_mha_built_on_the_published_attention_equals_nnlib():
    mha, own_attention = solution("multi_head_attention"), solution("scaled_dot_product_attention")
    for case in MHA.cases:
        x, params, h, _ = case.args
        np.testing.assert_allclose(mha(x, params, h, own_attention),
                                   multi_head_attention_forward(x, x, params, h)[0],
                                   rtol=1e-12, atol=1e-12)


def test_the_mha_cases_hold_several_heads_one_head_and_one_position():
    shapes = [(case.args[0].shape, case.args[2]) for case in MHA.cases]
    assert shapes[0][1] > 1  # the first case tells every mistake apart
    assert any(h == 1 for _, h in shapes) and any(shape[1] == 1 for shape, _ in shapes)
    assert all(shape[2] % h == 0 for shape, h in shapes)


def test_an_mha_that_ignores_the_attention_passed_in_but_is_right_is_accepted():
    own_attention = solution("scaled_dot_product_attention")
    mha = solution("multi_head_attention")
    result = MHA.check(lambda x, params, h, attention: mha(x, params, h, own_attention))
    assert result.passed, result.message


def test_a_wrong_shape_is_named_with_the_axes():
    result = MHA.check(lambda x, params, h, attention: x[:, :, :1])
    assert result.diagnosis == "shape" and "(B, T, E)" in result.message


# --------------------------------------------------------------------------------- lm_step


def ce_step(model, opt, ids):
    """A correct step written differently: logits transposed to (B, V, T), a tensor returned."""
    logits = model(ids[:, :-1])
    loss = F.cross_entropy(logits.transpose(1, 2), ids[:, 1:])
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss


def test_a_step_with_transposed_logits_is_accepted():
    result = LM.check(ce_step)
    assert result.passed, result.message


def test_the_lm_reference_equals_torch_cross_entropy_on_every_case():
    LM.build()
    for case in LM.cases:
        ours, theirs = LM._call(LM.reference, case), LM._call(ce_step, case)
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10, err_msg=case.label)


def test_the_tiny_model_is_causal_and_the_cases_fresh_then_mid_training():
    LM.build()
    fresh, *mid = LM.cases
    model, _, ids = fresh.args
    with torch.no_grad():
        changed = ids.clone()
        changed[:, 3:] = (changed[:, 3:] + 1) % 7
        a, b = model(ids), model(changed)
    assert torch.equal(a[:, :3], b[:, :3]) and not torch.equal(a[:, 3:], b[:, 3:])
    assert all(p.grad is None for p in model.parameters())
    for case in mid:
        assert all(p.grad is not None for p in case.args[0].parameters()), case.label
        assert case.args[1].state, case.label
    assert min(case.args[2].shape[0] for case in LM.cases) == 1  # a batch of one


@pytest.mark.parametrize("loss, hint", [
    (lambda logits, y: F.cross_entropy(logits, y), "cross_entropy reads 3-D logits as (B, V, T)"),
    (lambda logits, y: F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y),
     "flatten BOTH"),
], ids=["3-D logits", "targets not flattened"])
def test_a_step_whose_cross_entropy_raises_is_told_how_to_flatten(loss, hint):
    def step(model, opt, ids):
        value = loss(model(ids[:, :-1]), ids[:, 1:])
        opt.zero_grad()
        value.backward()
        opt.step()
        return value.item()

    result = LM.check(step)
    assert result.diagnosis == "raised" and hint in result.message


def test_stepping_twice_is_named_by_parameter():
    def twice(model, opt, ids):
        loss = ce_step(model, opt, ids)
        opt.step()
        return loss

    result = LM.check(twice)
    assert result.diagnosis == "values" and "model's parameter `" in result.message
    assert "opt.zero_grad(), then loss.backward(), then opt.step(), once each" in result.message
