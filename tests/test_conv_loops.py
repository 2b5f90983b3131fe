"""The loop versions of conv2d and max-pool (nnlib.conv_loops) agree with the im2col ones."""

import numpy as np
import pytest
import torch.nn.functional as F
from parity import check_pair

from nnlib.conv_loops import (
    conv2d_backward_loops,
    conv2d_forward_loops,
    maxpool2d_backward_loops,
    maxpool2d_forward_loops,
)
from nnlib.layers import conv2d_backward, conv2d_forward, maxpool2d_backward, maxpool2d_forward


@pytest.mark.parametrize("shape, filters, stride, padding", [
    ((2, 1, 6, 6), (3, 1, 3, 3), 1, 1), ((1, 2, 7, 5), (2, 2, 3, 1), 2, 0),
    ((3, 3, 4, 4), (2, 3, 4, 4), 1, 0),
    # strides that do not divide the size: the last rows/columns are never seen
    ((2, 1, 4, 10), (2, 1, 3, 3), 3, 0), ((1, 2, 9, 7), (3, 2, 2, 2), 2, 1),
    ((1, 1, 11, 8), (2, 1, 2, 3), 4, 0),
])
def test_loop_conv_equals_im2col_conv(shape, filters, stride, padding):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(shape), rng.standard_normal(filters)
    b = rng.standard_normal(filters[0])
    out, cache = conv2d_forward(x, w, b, stride, padding)
    out_loops, cache_loops = conv2d_forward_loops(x, w, b, stride, padding)
    np.testing.assert_allclose(out_loops, out, rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    grads = zip(conv2d_backward_loops(dout, cache_loops), conv2d_backward(dout, cache))
    for got, expected in grads:
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape, kernel, stride", [((2, 3, 6, 6), 2, None), ((1, 2, 7, 7), 3, 1),
                                                   ((2, 1, 5, 7), 3, 2), ((1, 1, 7, 9), 2, None),
                                                   ((2, 2, 10, 10), 3, None),
                                                   ((2, 1, 12, 8), 2, 3)])
def test_loop_maxpool_equals_vectorised_maxpool_with_ties(shape, kernel, stride):
    rng = np.random.default_rng(1)
    x = np.maximum(rng.standard_normal(shape), 0.0)  # many tied zeros
    out, cache = maxpool2d_forward(x, kernel, stride)
    out_loops, cache_loops = maxpool2d_forward_loops(x, kernel, stride)
    np.testing.assert_array_equal(out_loops, out)
    dout = rng.standard_normal(out.shape)
    # overlapping windows add a pixel's gradients in another order: equal to rounding
    np.testing.assert_allclose(maxpool2d_backward_loops(dout, cache_loops),
                               maxpool2d_backward(dout, cache), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("shape, filters, stride, padding", [
    ((2, 1, 4, 10), (2, 1, 3, 3), 3, 0), ((1, 2, 9, 7), (3, 2, 2, 2), 2, 1),
    ((1, 1, 8, 9), (1, 1, 3, 3), 2, 1),
], ids=["W10K3s3", "H9W7K2s2p1", "H8W9K3s2p1"])
def test_loop_conv_matches_torch_when_the_stride_does_not_divide_the_size(shape, filters, stride,
                                                                          padding):
    rng = np.random.default_rng(2)
    inputs = {"x": rng.standard_normal(shape), "w": rng.standard_normal(filters),
              "b": rng.standard_normal(filters[0])}
    check_pair(conv2d_forward_loops, conv2d_backward_loops,
               lambda x, w, b, stride, padding: F.conv2d(x, w, b, stride=stride, padding=padding),
               inputs, ("x", "w", "b"), kwargs={"stride": stride, "padding": padding})


@pytest.mark.parametrize("shape, kernel, stride", [((1, 1, 7, 9), 2, None), ((2, 2, 10, 10), 3, 3),
                                                   ((2, 1, 12, 8), 2, 3)], ids=str)
def test_loop_maxpool_matches_torch_when_the_stride_does_not_divide_the_size(shape, kernel,
                                                                             stride):
    x = np.random.default_rng(3).standard_normal(shape)
    out, _ = check_pair(maxpool2d_forward_loops, maxpool2d_backward_loops,
                        lambda x, kernel, stride: F.max_pool2d(x, kernel, stride), {"x": x},
                        ("x",), kwargs={"kernel": kernel, "stride": stride})
    assert out.shape == (*shape[:2], (shape[2] - kernel) // (stride or kernel) + 1,
                         (shape[3] - kernel) // (stride or kernel) + 1)


def test_loop_maxpool_refuses_stride_0_like_the_vectorised_one():
    with pytest.raises(ValueError, match="stride must be an integer >= 1, got 0"):
        maxpool2d_forward_loops(np.ones((1, 1, 4, 4)), 2, 0)
