"""nnlib.models.cnn: the torch builders (shapes, parameter counts, seeding), feature maps and
occlusion. The numpy CNN: tests/test_convnet.py; the training loop: tests/test_training.py."""

import numpy as np
import pytest
import torch

from nnlib.convnet import NumpyCNN
from nnlib.models.cnn import build_cnn, build_mlp, count_parameters, feature_maps, occlusion_map
from nnlib.models.training import predict_proba


# ------------------------------------------------------------------ torch models
def test_build_cnn_shapes_and_parameter_counts():
    model = build_cnn(channels=(8, 32), hidden=128, batchnorm=False)
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    # conv1 8*9+8, conv2 32*8*9+32, dense 32*7*7*128+128, output 128*10+10
    assert count_parameters(model) == 80 + 2336 + 200_832 + 1290
    with_bn = build_cnn(channels=(8, 32), hidden=128)
    assert count_parameters(with_bn) == count_parameters(model) + 2 * 32  # after conv 2 only
    assert build_cnn(channels=(4, 4, 4), image_size=16)(torch.zeros(1, 1, 16, 16)).shape == (1, 10)
    with pytest.raises(ValueError, match="image_size must be a multiple of 8"):
        build_cnn(channels=(4, 4, 4), image_size=28)
    mlp = build_mlp((784, 256, 128, 10))
    assert count_parameters(mlp) == 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10
    assert count_parameters(NumpyCNN((8, 16))) == 80 + 1168 + 784 * 10 + 10


def test_builders_are_seeded():
    a, b, c = build_cnn(seed=3), build_cnn(seed=3), build_cnn(seed=4)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)
    assert not torch.equal(next(a.parameters()), next(c.parameters()))


# ------------------------------------------------------------------ looking inside
def test_feature_maps_are_the_conv_blocks_outputs_after_relu():
    model = build_cnn(channels=(3, 5), hidden=8, seed=0).eval()
    image = np.random.default_rng(0).random((28, 28)).astype(np.float32)
    maps = feature_maps(model, image)
    assert [m.shape for m in maps] == [(3, 28, 28), (5, 14, 14)]
    assert all((m >= 0).all() for m in maps)
    x = torch.tensor(image).reshape(1, 1, 28, 28)
    with torch.no_grad():
        np.testing.assert_allclose(maps[0], model[:2](x)[0].numpy(), rtol=1e-6)  # conv, ReLU


def test_occlusion_map_hides_the_patch_at_every_position():
    model = build_cnn(channels=(2, 2), hidden=4, seed=0).eval()
    image = np.random.default_rng(1).random((28, 28)).astype(np.float32)
    probs, corners = occlusion_map(model, image, label=3, patch=8, stride=4)
    assert corners.tolist() == [0, 4, 8, 12, 16, 20] and probs.shape == (6, 6)
    hidden = image.copy()
    hidden[4:12, 16:24] = 0.0
    expected = predict_proba(model, hidden[None, None])[0, 3]
    assert probs[1, 4] == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match="patch must be between 1 and the image size 28"):
        occlusion_map(model, image, 0, patch=30)


