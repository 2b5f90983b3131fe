import matplotlib.pyplot as plt
import numpy as np
import pytest

from nnlib.display.plotting import COLORS, new_figure, show_images, use_course_style


def test_new_figure_is_not_managed_by_pyplot():
    before = plt.get_fignums()
    fig, axes = new_figure(1, 2)
    assert plt.get_fignums() == before
    assert len(axes) == 2 and fig.get_layout_engine() is not None


def test_course_style_uses_the_palette():
    use_course_style()
    assert plt.rcParams["axes.prop_cycle"].by_key()["color"][:3] == COLORS[:3]


def test_show_images_grid_and_labels():
    images = np.random.default_rng(0).random((13, 8, 8))
    fig = show_images(images, labels=np.arange(13) % 3, class_names=["a", "b", "c"], ncols=5)
    assert len(fig.axes) == 15
    assert fig.axes[4].get_title() == "b"
    plt.close(fig)


@pytest.mark.parametrize("images, labels, match", [
    (np.zeros((4, 8)), None, r"\(N, H, W\)"),
    (np.zeros((4, 8, 8)), [1, 2], "labels must have length 4"),
])
def test_show_images_rejects_bad_input(images, labels, match):
    with pytest.raises(ValueError, match=match):
        show_images(images, labels)
