"""The claims of notebook 07 hold for five seeds, not only the one the notebook prints.

Each seed trains the notebook's CNN and the bigger MLP with the same recipe
(``nnlib.models.cnn.RECIPES``), as the notebook does: the CNN reaches the course's
targets on held-out images (>= 98% on the MNIST subset, >= 88% on the
Fashion-MNIST subset), beats the MLP by more than a point with fewer
parameters, and on clothes finds shirts the hardest class, loses more than a point
when batch norm is left in training mode on class-sorted test batches, and is sensitive
to only a few occluded patches (occlusion). A control: without its batch-norm layer
(which the MLP lacks) the CNN, trained with the same recipe, still beats the MLP.
"""

import numpy as np
import pytest

from nnlib.models.cnn import (
    accuracy_with_batch_statistics,
    build_cnn,
    build_mlp,
    count_parameters,
    fit_image_classifier,
    occlusion_map,
)
from nnlib.models.training import predict_proba

pytestmark = pytest.mark.claims  # training runs: `pytest -m "not claims"` skips them

TARGETS = {"mnist": 0.98, "fashion_mnist": 0.88}
# Seed 0 is the notebook's own run: notebooks/07_cnn.ipynb asserts the same claims for it,
# under all three numerical settings of `make test`, so it is not trained a second time here.
SEEDS = range(1, 5)


def test_the_cnn_has_fewer_parameters_than_the_mlp():
    assert count_parameters(build_cnn()) < count_parameters(build_mlp())


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("dataset", sorted(TARGETS))
def test_cnn_reaches_the_target_and_beats_the_bigger_mlp(dataset, seed):
    cnn, cnn_result, data = fit_image_classifier(dataset, seed=seed, device="cpu")
    _, mlp_result, _ = fit_image_classifier(dataset, architecture="mlp", seed=seed, device="cpu")
    cnn_accuracy, mlp_accuracy = cnn_result.val_accuracy[-1], mlp_result.val_accuracy[-1]
    assert cnn_accuracy >= TARGETS[dataset], (dataset, seed, cnn_accuracy)
    assert cnn_accuracy > mlp_accuracy + 0.01, (dataset, seed, cnn_accuracy, mlp_accuracy)
    if dataset == "fashion_mnist":
        predicted = predict_proba(cnn, data.x_test[:, None]).argmax(1)
        per_class = [np.mean(predicted[data.y_test == k] == k) for k in range(10)]
        assert data.class_names[int(np.argmin(per_class))] == "Shirt"
        # the evaluation-mode pitfall: batch norm left in training mode, class-sorted batches
        forgot_eval = accuracy_with_batch_statistics(cnn, data.x_test[:, None], data.y_test,
                                                     batch_size=16, by_class=True)
        assert forgot_eval < cnn_accuracy - 0.01, (seed, forgot_eval, cnn_accuracy)
        probs = predict_proba(cnn, data.x_test[:40, None])
        largest, typical = [], []
        for k in range(40):
            image, label = data.x_test[k], int(data.y_test[k])
            occluded, corners = occlusion_map(cnn, image, label, patch=8, stride=2)
            drops = probs[k, label] - occluded
            largest.append(drops.max())
            typical.append(np.median([drops[a, b] for a, i in enumerate(corners)
                                      for b, j in enumerate(corners)
                                      if image[i:i + 8, j:j + 8].max() > 0.1]))
        assert np.median(largest) > 5 * np.median(typical), (seed, largest, typical)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("dataset", sorted(TARGETS))
def test_cnn_without_batch_norm_still_beats_the_mlp(dataset, seed):
    # a control: the CNN has a batch-norm layer and the MLP none. Without it, trained with the
    # same recipe, the CNN still wins (by 0.85 to 2.3 points over the six runs when this test
    # was written, on a CPU; by less than with batch norm)
    from nnlib import data as datasets
    from nnlib.models.cnn import RECIPES
    from nnlib.models.training import horizontal_flip, train_classifier

    recipe = RECIPES[dataset]
    data = getattr(datasets, f"load_{dataset}")(dtype=np.float32)
    cnn = build_cnn(batchnorm=False, seed=seed)
    assert not any("BatchNorm" in type(layer).__name__ for layer in cnn)
    result = train_classifier(
        cnn, data.x_train[:, None], data.y_train, epochs=recipe.epochs,
        batch_size=recipe.batch_size, lr=recipe.lr, x_val=data.x_test[:, None], y_val=data.y_test,
        augment=horizontal_flip if recipe.flip else None, seed=seed, device="cpu")
    _, mlp_result, _ = fit_image_classifier(dataset, architecture="mlp", seed=seed, device="cpu")
    cnn_accuracy, mlp_accuracy = result.val_accuracy[-1], mlp_result.val_accuracy[-1]
    assert cnn_accuracy > mlp_accuracy, (dataset, seed, cnn_accuracy, mlp_accuracy)
