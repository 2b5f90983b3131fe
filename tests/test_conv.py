"""nnlib.layers conv2d and maxpool2d pairs against torch (float64), finite differences,
hand-checkable cases, and bad input."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from parity import check_pair, check_pair_numerically

from nnlib.layers import (
    conv2d_backward,
    conv2d_forward,
    conv_output_size,
    im2col,
    maxpool2d_backward,
    maxpool2d_forward,
    unseen_size,
)

# (B, C, H, W, F, KH, KW, stride, padding): batch 1, one channel, non-square inputs and
# kernels, strides 1-3, paddings 0-2, a kernel as large as the (padded) input.
CONV_CASES = [
    (1, 1, 5, 5, 1, 3, 3, 1, 0),
    (2, 1, 6, 4, 3, 3, 3, 1, 1),
    (1, 3, 7, 7, 2, 3, 3, 2, 0),
    (2, 2, 9, 7, 4, 3, 1, 2, 1),
    (3, 2, 5, 6, 2, 2, 3, 1, 2),
    (2, 3, 4, 4, 2, 4, 4, 1, 0),  # the kernel covers the whole image: OH = OW = 1
    (1, 2, 3, 5, 3, 5, 7, 1, 1),  # ... the whole padded image
    (2, 1, 10, 10, 2, 4, 4, 3, 0),
    (2, 2, 8, 8, 3, 3, 3, 3, 2),  # stride equal to the kernel
    (1, 1, 1, 1, 2, 1, 1, 1, 0),  # a 1x1 image and kernel
    (4, 1, 28, 28, 8, 3, 3, 1, 1),  # the notebook's first layer
]
CASE_IDS = ["B{}C{}H{}W{}F{}K{}x{}s{}p{}".format(*case) for case in CONV_CASES]


def torch_conv2d(x, w, b, stride, padding):
    return F.conv2d(x, w, b, stride=stride, padding=padding)


def conv_inputs(B, C, H, W, F_, KH, KW, seed=0):
    rng = np.random.default_rng(seed)
    return {"x": rng.standard_normal((B, C, H, W)), "w": rng.standard_normal((F_, C, KH, KW)),
            "b": rng.standard_normal(F_)}


@pytest.mark.parametrize("B, C, H, W, F_, KH, KW, stride, padding", CONV_CASES, ids=CASE_IDS)
def test_conv2d_matches_torch(B, C, H, W, F_, KH, KW, stride, padding):
    inputs = conv_inputs(B, C, H, W, F_, KH, KW)
    kwargs = {"stride": stride, "padding": padding}
    out, _ = check_pair(conv2d_forward, conv2d_backward, torch_conv2d, inputs, ("x", "w", "b"),
                        kwargs=kwargs)
    OH, OW = (H + 2 * padding - KH) // stride + 1, (W + 2 * padding - KW) // stride + 1
    assert out.shape == (B, F_, OH, OW)


SMALL = [i for i, case in enumerate(CONV_CASES) if case[2] * case[3] <= 100]


@pytest.mark.parametrize("B, C, H, W, F_, KH, KW, stride, padding",
                         [CONV_CASES[i] for i in SMALL], ids=[CASE_IDS[i] for i in SMALL])
def test_conv2d_matches_finite_differences(B, C, H, W, F_, KH, KW, stride, padding):
    inputs = conv_inputs(B, C, H, W, F_, KH, KW, seed=1)
    check_pair_numerically(conv2d_forward, conv2d_backward, inputs, ("x", "w", "b"),
                           kwargs={"stride": stride, "padding": padding})


# Strides that do not divide (size + 2*padding - kernel) on at least one axis: torch rounds
# the output size down and never sees the last rows/columns; so must we.
NON_DIVIDING_CONV_CASES = [
    (2, 1, 4, 10, 2, 3, 3, 3, 0),  # width 10, kernel 3, stride 3: the last column is unseen
    (1, 1, 10, 10, 1, 3, 3, 3, 0),  # ... both axes, batch 1, one filter
    (1, 2, 9, 7, 3, 2, 2, 2, 1),  # padding 1, stride 2 on odd sizes (kernel 2)
    (2, 2, 8, 9, 3, 3, 3, 2, 1),  # padding 1, stride 2: height 8 does not divide, width 9 does
    (2, 1, 11, 8, 2, 2, 3, 4, 0),  # non-square kernel, stride larger than the kernel
    (1, 3, 11, 11, 2, 3, 3, 4, 1),  # padding 1: the last image column and a padding one unseen
    (1, 1, 5, 6, 2, 5, 5, 2, 0),  # the kernel as tall as the image: one position per axis
    (1, 1, 28, 28, 2, 3, 3, 3, 2),  # the kernel explorer's stride 3, padding 2: 2 left out
    (4, 1, 28, 28, 8, 3, 3, 2, 0),  # the notebook's image at stride 2
]
NON_DIVIDING_IDS = ["B{}C{}H{}W{}F{}K{}x{}s{}p{}".format(*case)
                    for case in NON_DIVIDING_CONV_CASES]


@pytest.mark.parametrize("B, C, H, W, F_, KH, KW, stride, padding", NON_DIVIDING_CONV_CASES,
                         ids=NON_DIVIDING_IDS)
def test_conv2d_matches_torch_when_the_stride_does_not_divide_the_size(
        B, C, H, W, F_, KH, KW, stride, padding):
    assert ((H + 2 * padding - KH) % stride or (W + 2 * padding - KW) % stride), "a dividing case"
    inputs = conv_inputs(B, C, H, W, F_, KH, KW, seed=2)
    out, _ = check_pair(conv2d_forward, conv2d_backward, torch_conv2d, inputs, ("x", "w", "b"),
                        kwargs={"stride": stride, "padding": padding})
    expected = F.conv2d(torch.zeros(B, C, H, W), torch.zeros(F_, C, KH, KW), stride=stride,
                        padding=padding).shape
    assert out.shape == tuple(expected)
    assert out.shape == (B, F_, (H + 2 * padding - KH) // stride + 1,
                         (W + 2 * padding - KW) // stride + 1)


@pytest.mark.parametrize("B, C, H, W, F_, KH, KW, stride, padding",
                         [(2, 1, 4, 10, 2, 3, 3, 3, 0), (1, 2, 9, 7, 3, 2, 2, 2, 1)],
                         ids=["W10K3s3", "H9W7K2s2p1"])
def test_conv2d_matches_finite_differences_when_the_stride_does_not_divide(
        B, C, H, W, F_, KH, KW, stride, padding):
    inputs = conv_inputs(B, C, H, W, F_, KH, KW, seed=3)
    check_pair_numerically(conv2d_forward, conv2d_backward, inputs, ("x", "w", "b"),
                           kwargs={"stride": stride, "padding": padding})


@pytest.mark.parametrize("H, W, K, stride, padding, unseen_rows, unseen_cols", [
    (6, 10, 3, 3, 0, 0, 1),  # (10 - 3) % 3 = 1: column 9 (and (6 - 3) % 3 = 0: every row)
    (10, 10, 3, 3, 0, 1, 1),
    (5, 11, 3, 4, 1, 1, 3),  # stride 4 > kernel 3: gaps (row 2, columns 2 and 6), and of the
    # last 2 padded columns one is image column 10
    (7, 13, 2, 5, 0, 3, 7),  # gaps between windows (3 rows, 6 columns) and the last column
    (28, 28, 3, 2, 0, 1, 1),
])
def test_conv2d_never_sees_the_last_rows_and_columns_and_gives_them_zero_gradient(
        H, W, K, stride, padding, unseen_rows, unseen_cols):
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((2, 2, H, W)), rng.standard_normal((3, 2, K, K)), np.ones(3)
    out, cache = conv2d_forward(x, w, b, stride=stride, padding=padding)
    dx, _, _ = conv2d_backward(rng.standard_normal(out.shape), cache)
    seen = np.zeros((H, W), dtype=bool)  # the image pixels some kernel position covers
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            rows = slice(max(i * stride - padding, 0), i * stride - padding + K)
            seen[rows, max(j * stride - padding, 0):j * stride - padding + K] = True
    assert (~seen.any(axis=1)).sum() == unseen_rows and (~seen.any(axis=0)).sum() == unseen_cols
    np.testing.assert_array_equal(dx[:, :, ~seen], 0.0)  # exactly zero: nothing flowed there
    assert np.all(dx[:, :, seen] != 0.0)  # a random dout reaches every pixel that was seen
    changed = x.copy()
    changed[:, :, ~seen] = 1e6  # whatever the unseen pixels hold, the output is the same
    np.testing.assert_array_equal(conv2d_forward(changed, w, b, stride, padding)[0], out)


def test_conv2d_hand_checkable_values():
    # a 3x3 image and a 2x2 kernel: each output is a dot product with one patch
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    w = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])  # top-left minus bottom-right
    out, cache = conv2d_forward(x, w, np.array([0.5]))
    np.testing.assert_array_equal(out, [[[[0 - 4 + 0.5, 1 - 5 + 0.5], [3 - 7 + 0.5, 4 - 8 + 0.5]]]])
    dx, dw, db = conv2d_backward(np.ones((1, 1, 2, 2)), cache)
    # each pixel receives +1 for every position it is top-left in, -1 for bottom-right
    np.testing.assert_array_equal(dx[0, 0], [[1, 1, 0], [1, 0, -1], [0, -1, -1]])
    np.testing.assert_array_equal(dw[0, 0], [[0 + 1 + 3 + 4, 1 + 2 + 4 + 5],
                                             [3 + 4 + 6 + 7, 4 + 5 + 7 + 8]])
    np.testing.assert_array_equal(db, [4.0])


def test_padding_adds_zeros_around_the_image():
    x = np.ones((1, 1, 2, 2))
    out, _ = conv2d_forward(x, np.ones((1, 1, 3, 3)), np.zeros(1), padding=1)
    np.testing.assert_array_equal(out[0, 0], [[4, 4], [4, 4]])  # 4 ones under every position


def test_im2col_columns_are_the_flattened_patches():
    x = np.arange(2 * 2 * 4 * 4, dtype=float).reshape(2, 2, 4, 4)
    cols = im2col(x, (3, 2), stride=1, padding=0)
    OH, OW = 2, 3
    assert cols.shape == (2 * 3 * 2, 2 * OH * OW)
    for b in range(2):
        for i in range(OH):
            for j in range(OW):
                patch = x[b, :, i:i + 3, j:j + 2].ravel()
                np.testing.assert_array_equal(cols[:, b * OH * OW + i * OW + j], patch)


def test_conv2d_accepts_lists_and_integers_and_does_not_modify_inputs():
    x = np.random.default_rng(3).standard_normal((2, 2, 5, 5))
    w = np.random.default_rng(4).standard_normal((3, 2, 3, 3))
    saved = x.copy(), w.copy()
    out, cache = conv2d_forward(x, w, np.zeros(3), stride=2, padding=1)
    dout = np.random.default_rng(5).standard_normal(out.shape)
    saved_dout = dout.copy()
    conv2d_backward(dout, cache)
    np.testing.assert_array_equal(x, saved[0])
    np.testing.assert_array_equal(w, saved[1])
    np.testing.assert_array_equal(dout, saved_dout)
    out, _ = conv2d_forward([[[[1, 2], [3, 4]]]], [[[[1]]]], [0])
    assert out.dtype == np.float64 and out.tolist() == [[[[1.0, 2.0], [3.0, 4.0]]]]


@pytest.mark.parametrize("size, kernel, stride, padding, expected", [
    (28, 3, 1, 1, 28), (28, 3, 1, 0, 26), (28, 2, 2, 0, 14), (7, 3, 2, 0, 3), (5, 5, 1, 0, 1),
    (1, 3, 1, 1, 1), (32, 5, 3, 0, 10), (31, 5, 3, 2, 11),
    # the stride does not divide size + 2*padding - kernel: rounded down, as torch does
    (28, 3, 2, 0, 13), (28, 3, 3, 0, 9), (10, 3, 3, 0, 3), (9, 2, 2, 1, 5), (28, 3, 3, 2, 10),
    (7, 2, 2, 0, 3), (227, 11, 5, 0, 44), (4, 4, 3, 0, 1), (3, 1, 5, 0, 1),
])
def test_output_size_formula(size, kernel, stride, padding, expected):
    assert conv_output_size(size, kernel, stride, padding) == expected
    out = F.conv2d(torch.zeros(1, 1, size, size), torch.zeros(1, 1, kernel, kernel),
                   stride=stride, padding=padding)
    assert out.shape[-1] == expected


# ------------------------------------------------------------------ max pooling
# (B, C, H, W, kernel, stride): tiling windows, overlapping ones (stride < kernel),
# gaps between windows (stride > kernel), non-square inputs, one window per image.
POOL_CASES = [
    (1, 1, 4, 4, 2, None), (2, 3, 6, 4, 2, None), (2, 2, 9, 6, 3, None), (1, 2, 5, 7, 3, 2),
    (2, 1, 7, 7, 3, 1), (2, 2, 7, 4, 1, 3), (3, 1, 5, 5, 5, None), (1, 1, 1, 1, 1, None),
    (4, 8, 28, 28, 2, None),
]
POOL_IDS = ["B{}C{}H{}W{}k{}s{}".format(*case) for case in POOL_CASES]
# (B, C, H, W, kernel, stride) where the stride does not divide H - kernel or W - kernel
NON_DIVIDING_POOL_CASES = [
    (1, 1, 7, 9, 2, None),  # height 7, width 9, 2x2 windows: the last row and column unseen
    (2, 3, 7, 9, 2, 2),
    (2, 2, 10, 10, 3, None),  # width 10, kernel 3, stride 3
    (1, 2, 10, 7, 3, 2),  # overlapping windows; only the width leaves a column out
    (2, 1, 12, 8, 2, 3),  # gaps between windows, and 1 row left out
    (2, 2, 9, 10, 2, 4),  # gaps: 3 rows left out, none of the columns
    (3, 1, 5, 7, 4, None),  # one window per image
    (1, 4, 28, 28, 3, None),  # batch 1, 28 pixels in 3x3 windows
]
NON_DIVIDING_POOL_IDS = ["B{}C{}H{}W{}k{}s{}".format(*case) for case in NON_DIVIDING_POOL_CASES]


def torch_maxpool(x, kernel, stride):
    return F.max_pool2d(x, kernel, stride)


@pytest.mark.parametrize("B, C, H, W, kernel, stride", POOL_CASES, ids=POOL_IDS)
def test_maxpool2d_matches_torch_and_finite_differences(B, C, H, W, kernel, stride):
    x = np.random.default_rng(6).standard_normal((B, C, H, W))
    kwargs = {"kernel": kernel, "stride": stride}
    out, _ = check_pair(maxpool2d_forward, maxpool2d_backward, torch_maxpool, {"x": x}, ("x",),
                        kwargs=kwargs)
    s = stride or kernel
    assert out.shape == (B, C, (H - kernel) // s + 1, (W - kernel) // s + 1)
    if x.size <= 200:
        check_pair_numerically(maxpool2d_forward, maxpool2d_backward, {"x": x}, ("x",),
                               kwargs=kwargs)


@pytest.mark.parametrize("B, C, H, W, kernel, stride", NON_DIVIDING_POOL_CASES,
                         ids=NON_DIVIDING_POOL_IDS)
def test_maxpool2d_matches_torch_when_the_stride_does_not_divide_the_size(B, C, H, W, kernel,
                                                                          stride):
    s = stride or kernel
    assert (H - kernel) % s or (W - kernel) % s, "a dividing case"
    x = np.random.default_rng(8).standard_normal((B, C, H, W))
    out, _ = check_pair(maxpool2d_forward, maxpool2d_backward, torch_maxpool, {"x": x}, ("x",),
                        kwargs={"kernel": kernel, "stride": stride})
    assert out.shape == tuple(F.max_pool2d(torch.tensor(x), kernel, stride).shape)
    assert out.shape == (B, C, (H - kernel) // s + 1, (W - kernel) // s + 1)


def test_maxpool2d_matches_finite_differences_when_the_stride_does_not_divide():
    x = np.random.default_rng(9).standard_normal((2, 2, 7, 9))
    check_pair_numerically(maxpool2d_forward, maxpool2d_backward, {"x": x}, ("x",),
                           kwargs={"kernel": 2, "stride": None})


def test_maxpool2d_never_sees_the_last_row_and_column_and_gives_them_zero_gradient():
    x = np.random.default_rng(10).standard_normal((2, 3, 7, 9))
    x[:, :, 6, :] = 100.0  # the largest values sit where no 2x2 window reaches ...
    x[:, :, :, 8] = 100.0
    out, cache = maxpool2d_forward(x, 2)
    assert out.shape == (2, 3, 3, 4)
    assert out.max() < 100.0  # ... so no window picks them
    dx = maxpool2d_backward(np.random.default_rng(11).standard_normal(out.shape), cache)
    np.testing.assert_array_equal(dx[:, :, 6, :], 0.0)
    np.testing.assert_array_equal(dx[:, :, :, 8], 0.0)
    # each window still sends its whole gradient to exactly one pixel of its own
    assert np.count_nonzero(dx[:, :, :6, :8]) == out.size
    check_pair(maxpool2d_forward, maxpool2d_backward, torch_maxpool, {"x": x}, ("x",),
               kwargs={"kernel": 2, "stride": None})


@pytest.mark.parametrize("kernel, stride", [(2, None), (3, 1), (2, 1)])
def test_maxpool2d_ties_go_to_the_first_cell_like_torch(kernel, stride):
    # ReLU outputs are full of exact zeros: ties that a mask `x == max` would double-count
    x = np.maximum(np.random.default_rng(7).standard_normal((2, 3, 6, 6)), 0.0)
    x[0, 0] = 0.0  # a whole channel of ties
    check_pair(maxpool2d_forward, maxpool2d_backward, torch_maxpool, {"x": x}, ("x",),
               kwargs={"kernel": kernel, "stride": stride})


def test_maxpool2d_hand_checkable_values():
    x = np.array([[[[1.0, 3.0, 0.0, 0.0],
                    [2.0, 0.0, 5.0, 4.0],
                    [0.0, 0.0, 1.0, 1.0],
                    [0.0, -1.0, 1.0, 1.0]]]])
    out, cache = maxpool2d_forward(x)
    np.testing.assert_array_equal(out[0, 0], [[3, 5], [0, 1]])
    # the winning cell of each window, u * kernel + v; ties go to the first in reading order
    np.testing.assert_array_equal(cache.winner[0, 0], [[1, 2], [0, 0]])
    dx = maxpool2d_backward(np.array([[[[10.0, 20.0], [30.0, 40.0]]]]), cache)
    np.testing.assert_array_equal(dx[0, 0], [[0, 10, 0, 0],
                                             [0, 0, 20, 0],
                                             [30, 0, 40, 0],
                                             [0, 0, 0, 0]])


# ------------------------------------------------------------------ bad input
def conv_cache():
    return conv2d_forward(np.ones((2, 1, 5, 5)), np.ones((3, 1, 3, 3)), np.ones(3))[1]


BAD_INPUT = [
    (lambda: conv2d_forward(np.ones((2, 3, 5, 5)), np.ones((4, 1, 3, 3)), np.ones(4)),
     r"x has 3 channels but the filters w \(4, 1, 3, 3\) expect 1: "
     r"x must have shape \(B, 1, H, W\)"),
    (lambda: conv2d_forward(np.ones((2, 1, 3, 3)), np.ones((4, 1, 5, 5)), np.ones(4)),
     r"the kernel \(5\) is larger than the padded input \(3 \+ 2\*0 = 3\)"),
    (lambda: conv2d_forward(np.ones((2, 1, 3, 3)), np.ones((4, 1, 6, 6)), np.ones(4), padding=1),
     r"the kernel \(6\) is larger than the padded input \(3 \+ 2\*1 = 5\)"),
    (lambda: conv2d_forward(np.ones((2, 1, 3, 8)), np.ones((4, 1, 4, 2)), np.ones(4), stride=3),
     r"conv2d on x \(2, 1, 3, 8\) with w \(4, 1, 4, 2\), stride=3, padding=0: the kernel \(4\) "
     r"is larger than the padded input \(3 \+ 2\*0 = 3\): kernel must be at most "
     r"size \+ 2\*padding = 3, got 4"),
    (lambda: conv2d_forward(np.ones((1, 28, 28)), np.ones((4, 1, 3, 3)), np.ones(4)),
     r"x must be a batch of images \(B, C, H, W\), got shape \(1, 28, 28\)"),
    (lambda: conv2d_forward(np.ones((2, 1, 5, 5)), np.ones((4, 3, 3)), np.ones(4)),
     r"w must hold filters \(F, C, KH, KW\), got shape \(4, 3, 3\)"),
    (lambda: conv2d_forward(np.ones((2, 1, 5, 5)), np.ones((4, 1, 3, 3)), np.ones(3)),
     r"b must have shape \(4,\), one bias per filter"),
    (lambda: conv2d_forward(np.ones((2, 1, 5, 5)), np.ones((4, 1, 3, 3)), np.ones(4), stride=0),
     r"stride must be an integer >= 1, got 0"),
    (lambda: conv2d_forward(np.ones((2, 1, 5, 5)), np.ones((4, 1, 3, 3)), np.ones(4), stride=1.5),
     r"stride must be an integer >= 1, got 1.5"),
    (lambda: conv2d_forward(np.ones((2, 1, 5, 5)), np.ones((4, 1, 3, 3)), np.ones(4), padding=-1),
     r"padding must be an integer >= 0, got -1"),
    (lambda: conv2d_backward(np.ones((2, 3, 5, 5)), conv_cache()),
     r"dout must have the forward output's shape \(2, 3, 3, 3\), got \(2, 3, 5, 5\)"),
    (lambda: maxpool2d_forward(np.ones((1, 1, 2, 2)), 3),
     r"the kernel \(3\) is larger than the padded input"),
    (lambda: maxpool2d_forward(np.ones((1, 1, 7, 2)), 3, 2),
     r"max-pool on x \(1, 1, 7, 2\) with kernel=3, stride=2: the kernel \(3\) is larger than "
     r"the padded input \(2 \+ 2\*0 = 2\): kernel must be at most size \+ 2\*padding = 2, "
     r"got 3"),
    (lambda: maxpool2d_forward(np.ones((1, 1, 4, 4)), 2, 0),
     r"stride must be an integer >= 1, got 0"),
    (lambda: maxpool2d_forward(np.ones((1, 1, 4, 4)), 0), r"kernel must be an integer >= 1, got 0"),
    (lambda: maxpool2d_forward(np.ones((4, 4)), 2), r"x must be a batch of images"),
    (lambda: maxpool2d_backward(np.ones((1, 1, 4, 4)), maxpool2d_forward(np.ones((1, 1, 4, 4)))[1]),
     r"dout must have the forward output's shape \(1, 1, 2, 2\), got \(1, 1, 4, 4\)"),
    (lambda: conv_output_size(28, 3, True), r"stride must be an integer >= 1, got True"),
]


@pytest.mark.parametrize("call, message", BAD_INPUT, ids=range(len(BAD_INPUT)))
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# Sizes we refuse are exactly those torch refuses: (x shape, kernel shape, stride, padding).
REFUSED_SIZES = [
    ((1, 1, 3, 3), (5, 5), 1, 0), ((1, 1, 3, 3), (6, 6), 1, 1), ((1, 1, 3, 8), (4, 2), 3, 0),
    ((1, 1, 5, 5), (3, 3), 0, 0), ((1, 1, 5, 5), (3, 3), 1, -1),
]


@pytest.mark.parametrize("x_shape, k, stride, padding", REFUSED_SIZES, ids=str)
def test_conv2d_refuses_the_sizes_torch_refuses(x_shape, k, stride, padding):
    with pytest.raises(ValueError, match="must be"):
        conv2d_forward(np.ones(x_shape), np.ones((1, 1, *k)), np.ones(1), stride, padding)
    with pytest.raises(RuntimeError):
        F.conv2d(torch.ones(x_shape), torch.ones(1, 1, *k), stride=stride, padding=padding)


@pytest.mark.parametrize("x_shape, kernel, stride", [((1, 1, 2, 2), 3, None),
                                                     ((1, 1, 7, 2), 3, 2),
                                                     ((1, 1, 4, 4), 2, 0)], ids=str)
def test_maxpool2d_refuses_the_sizes_torch_refuses(x_shape, kernel, stride):
    with pytest.raises(ValueError, match="must be"):
        maxpool2d_forward(np.ones(x_shape), kernel, stride)
    with pytest.raises(RuntimeError):
        F.max_pool2d(torch.ones(x_shape), kernel, stride)


@pytest.mark.parametrize("size, kernel, stride, padding", [
    (28, 3, 1, 0), (28, 3, 2, 0), (28, 3, 3, 1), (10, 3, 3, 0), (7, 2, 2, 0), (9, 4, 3, 2),
])
def test_unseen_size_counts_the_rows_no_kernel_position_reaches(size, kernel, stride, padding):
    out = conv_output_size(size, kernel, stride, padding)
    reached = (out - 1) * stride + kernel  # rows of the padded input the last position ends at
    assert unseen_size(size, kernel, stride, padding) == size + 2 * padding - reached
    assert unseen_size(size, kernel, stride, padding) == (size + 2 * padding - kernel) % stride
