"""Variable-length batches: pad_sequences, last_states and masked_mean against sequences run alone.

The padded batch goes through ``nnlib.rnn.rnn_forward`` / ``rnn_backward``; each
sequence also runs alone, which is the oracle: padding at the end must change
nothing at the real steps, the final states must be read at each sequence's own
end, and a masked loss must send no gradient into the padding.
"""

import numpy as np
import pytest

from nnlib.data.sequences import PaddedBatch, last_states, masked_mean, pad_sequences
from nnlib.rnn import rnn_backward, rnn_forward

D, H = 3, 5
LENGTHS = (4, 9, 1, 6)  # unsorted, a length-1 sequence, the longest not first


@pytest.fixture(scope="module")
def setup():
    rng = np.random.default_rng(0)
    seqs = [rng.standard_normal((T, D)) for T in LENGTHS]
    weights = (rng.standard_normal((D, H)) * 0.8, rng.standard_normal((H, H)) * 0.5,
               rng.standard_normal(H) * 0.5)
    return seqs, weights


def run_alone(seq, weights):
    return rnn_forward(seq[None], np.zeros((1, H)), *weights)


def test_pad_sequences_layout():
    seqs = [np.full((T, D), T + 0.5) for T in LENGTHS]
    batch = pad_sequences(seqs, pad_value=-1.0)
    assert isinstance(batch, PaddedBatch)
    assert batch.x.shape == (4, 9, D) and batch.x.dtype == np.float64
    assert batch.lengths.dtype == np.int64 and batch.lengths.tolist() == list(LENGTHS)
    assert batch.mask.dtype == bool and batch.mask.shape == (4, 9)
    for b, T in enumerate(LENGTHS):
        np.testing.assert_array_equal(batch.x[b, :T], seqs[b])  # real steps first
        assert np.all(batch.x[b, T:] == -1.0)  # padding at the end
        assert batch.mask[b].tolist() == [True] * T + [False] * (9 - T)


def test_pad_sequences_of_ids_and_of_float32():
    batch = pad_sequences([np.array([3, 1]), np.array([2]), np.array([5, 6, 7])])
    np.testing.assert_array_equal(batch.x, [[3, 1, 0], [2, 0, 0], [5, 6, 7]])
    assert batch.x.dtype == np.int64
    batch32 = pad_sequences([np.ones((2, 1), np.float32), np.ones((1, 1), np.float32)])
    assert batch32.x.dtype == np.float32
    one = pad_sequences([np.arange(6.0).reshape(3, 2)])  # batch 1: nothing to pad
    assert one.x.shape == (1, 3, 2) and one.mask.all()


def test_pad_sequences_matches_torch_pad_sequence():
    torch = pytest.importorskip("torch")
    seqs = [np.random.default_rng(T).standard_normal((T, D)) for T in LENGTHS]
    expected = torch.nn.utils.rnn.pad_sequence([torch.from_numpy(s) for s in seqs],
                                               batch_first=True)
    np.testing.assert_array_equal(pad_sequences(seqs).x, expected.numpy())


def test_padding_at_the_end_leaves_the_real_steps_unchanged(setup):
    seqs, weights = setup
    batch = pad_sequences(seqs)
    hs, _ = rnn_forward(batch.x, np.zeros((len(seqs), H)), *weights)
    for b, seq in enumerate(seqs):
        alone, _ = run_alone(seq, weights)
        # the same numbers up to rounding (the batched product may sum in another order)
        np.testing.assert_allclose(hs[b, :len(seq)], alone[0], rtol=1e-12, atol=1e-14)


def test_last_states_are_each_sequences_own_final_state(setup):
    seqs, weights = setup
    batch = pad_sequences(seqs)
    hs, _ = rnn_forward(batch.x, np.zeros((len(seqs), H)), *weights)
    final = last_states(hs, batch.lengths)
    assert final.shape == (len(seqs), H)
    T_max = max(LENGTHS)
    for b, seq in enumerate(seqs):
        alone, _ = run_alone(seq, weights)
        np.testing.assert_allclose(final[b], alone[0, -1], rtol=1e-12, atol=1e-14)
        gap = np.linalg.norm(hs[b, -1] - alone[0, -1])
        if len(seq) == T_max:
            assert gap < 1e-12  # the longest sequence ends at the last step
        else:
            # hs[:, -1] kept stepping on zeros: far from the sequence's own final state
            # (measured 1.3 to 2.5; each state lies in (-1, 1)^H)
            assert gap > 0.3, (b, gap)


def per_step_loss(hs, targets):
    """Squared error of the first hidden unit: (B, T), and its gradient w.r.t. hs."""
    diff = hs[..., 0] - targets
    return diff**2, diff


def test_masked_mean_is_the_mean_over_real_steps_only(setup):
    seqs, weights = setup
    batch = pad_sequences(seqs)
    hs, _ = rnn_forward(batch.x, np.zeros((len(seqs), H)), *weights)
    targets = np.random.default_rng(1).uniform(-1, 1, size=batch.mask.shape)
    losses, _ = per_step_loss(hs, targets)
    real = np.concatenate([losses[b, :T] for b, T in enumerate(LENGTHS)])
    assert masked_mean(losses, batch.mask) == pytest.approx(real.mean(), rel=1e-14)
    # the plain mean counts the pad steps: measured 0.48 against 0.65
    assert abs(losses.mean() - real.mean()) > 0.1 * real.mean()
    poisoned = np.where(batch.mask, losses, np.nan)  # pad entries are never read
    assert masked_mean(poisoned, batch.mask) == pytest.approx(real.mean(), rel=1e-14)


def test_masked_loss_sends_no_gradient_into_the_padding(setup):
    seqs, weights = setup
    batch = pad_sequences(seqs)
    B, T_max = batch.mask.shape
    hs, cache = rnn_forward(batch.x, np.zeros((B, H)), *weights)
    targets = np.random.default_rng(2).uniform(-1, 1, size=(B, T_max))
    _, diff = per_step_loss(hs, targets)
    n = batch.mask.sum()
    dhs = np.zeros_like(hs)
    dhs[..., 0] = 2 * diff * batch.mask / n  # d masked_mean / d hs
    dx, *_ = rnn_backward(dhs, cache)
    assert np.all(dx[~batch.mask] == 0.0)  # exactly: nothing after a step reaches back to it
    assert np.all(np.abs(dx[batch.mask]).sum(axis=-1) > 0)
    for b, seq in enumerate(seqs):  # and each real step gets what it gets alone
        T = len(seq)
        alone, cache_b = run_alone(seq, weights)
        dhs_b = np.zeros_like(alone)
        dhs_b[0, :, 0] = 2 * (alone[0, :, 0] - targets[b, :T]) / n
        dx_b, *_ = rnn_backward(dhs_b, cache_b)
        np.testing.assert_allclose(dx[b, :T], dx_b[0], rtol=1e-10, atol=1e-14)


def test_last_states_match_torch_packed_sequences(setup):
    torch = pytest.importorskip("torch")
    seqs, (w_ih, w_hh, b) = setup
    batch = pad_sequences(seqs)
    hs, _ = rnn_forward(batch.x, np.zeros((len(seqs), H)), w_ih, w_hh, b)
    rnn = torch.nn.RNN(D, H, batch_first=True).double()
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(w_ih.T))
        rnn.weight_hh_l0.copy_(torch.from_numpy(w_hh.T))
        rnn.bias_ih_l0.copy_(torch.from_numpy(b))
        rnn.bias_hh_l0.zero_()
        packed = torch.nn.utils.rnn.pack_padded_sequence(
            torch.from_numpy(batch.x), torch.from_numpy(batch.lengths), batch_first=True,
            enforce_sorted=False)
        out, h_n = rnn(packed)
        padded, lengths = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True)
    np.testing.assert_allclose(h_n[0].numpy(), last_states(hs, batch.lengths),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(lengths.numpy(), batch.lengths)
    np.testing.assert_allclose(padded.numpy()[batch.mask], hs[batch.mask], rtol=1e-10,
                               atol=1e-12)
    assert np.all(padded.numpy()[~batch.mask] == 0.0)  # torch zeroes the steps past the end


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: pad_sequences([]), "sequences"),
        (lambda: pad_sequences(np.ones((2, 3, 1))), "sequences"),
        (lambda: pad_sequences([np.ones((3, 2)), np.ones((4, 3))]), "sequences"),
        (lambda: pad_sequences([np.ones((3, 2)), np.ones(4)]), "sequences"),
        (lambda: pad_sequences([np.ones((3, 2)), np.ones((0, 2))]), r"sequences\[1\]"),
        (lambda: pad_sequences([np.ones((2, 2, 2))]), r"sequences\[0\]"),
        (lambda: pad_sequences([np.array(["a", "b"])]), r"sequences\[0\]"),
        (lambda: pad_sequences([np.array([1, 2])], pad_value=0.5), "pad_value"),
        (lambda: pad_sequences([np.ones(2)], pad_value="x"), "pad_value"),
        (lambda: last_states(np.ones((2, 3)), [1, 2]), "hs"),
        (lambda: last_states(np.ones((2, 3, 4)), [1, 4]), "lengths"),
        (lambda: last_states(np.ones((2, 3, 4)), [0, 2]), "lengths"),
        (lambda: last_states(np.ones((2, 3, 4)), [1, 2, 3]), "lengths"),
        (lambda: last_states(np.ones((2, 3, 4)), [1.0, 2.0]), "lengths"),
        (lambda: masked_mean(np.ones((2, 3)), np.ones((2, 3))), "mask"),
        (lambda: masked_mean(np.ones((2, 3)), np.ones((2, 4), bool)), "mask"),
        (lambda: masked_mean(np.ones((2, 3)), np.zeros((2, 3), bool)), "mask"),
        (lambda: masked_mean(np.array([["a"]]), np.ones((1, 1), bool)), "values"),
    ],
)
def test_bad_arguments(call, argument):
    with pytest.raises(ValueError, match=rf"^{argument} must .*got"):
        call()
