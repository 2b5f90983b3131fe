"""The course's colours stay readable for colour-blind readers, and its figures are opaque.

Colour blindness is simulated with the matrices of Machado, Oliveira & Fernandes (2009),
"A physiologically-based model for simulation of color vision deficiency", IEEE TVCG 15(6),
1291-1298, at severity 1.0 (protanopia, deuteranopia, tritanopia), applied to linear RGB as
the paper prescribes. Colour differences are CIEDE2000 (Sharma, Wu & Dalal 2005, "The
CIEDE2000 color-difference formula: implementation notes, supplementary test data, and
mathematical observations", Color Res. Appl. 30(1)), checked here against their test data.

The threshold, ΔE00 = 10: about 1 is a just-noticeable difference between two large patches
side by side; lines and small markers a legend matches by eye need several times more
(Stone, Szafir & Setlur 2014, "An engineering model for color difference as a function of
size"). Measured when this test was written: the closest pair of ``COLORS`` is 21.7 apart
for normal vision and 12.2 (protanopia, blue/purple), 11.6 (deuteranopia, orange/yellow) and
10.9 (tritanopia, orange/purple) under the simulations; matplotlib's default red and green
(``tab:red``/``tab:green``) are 4.6 apart under deuteranopia, and fail.
"""

import io
import itertools

import matplotlib as mpl
import numpy as np
import pytest
from matplotlib import colormaps
from matplotlib.colors import to_rgb, to_rgba

from nnlib.display.plotting import (
    COLORS,
    DIVERGING_CMAP,
    PALETTE,
    SEQUENTIAL_CMAP,
    class_cmap,
    new_figure,
    use_course_style,
)
from nnlib.display.widgets import figure_png

THRESHOLD = 10.0  # CIEDE2000; see the module docstring

# Machado, Oliveira & Fernandes (2009), severity 1.0; rows give the simulated linear R, G, B.
MACHADO_2009 = {
    "protanopia": [[0.152286, 1.052583, -0.204868],
                   [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968],
                     [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779],
                   [-0.078411, 0.930809, 0.147602],
                   [0.004733, 0.691367, 0.303900]],
}
VISIONS = [None, *MACHADO_2009]  # None: normal vision

# Okabe & Ito (2008), "Color Universal Design (CUD): how to make figures and presentations
# that are friendly to colorblind people", https://jfly.uni-koeln.de/color/
OKABE_ITO = {
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
    "black": "#000000",
}

# Sequential maps whose lightness rises (or falls) steadily; the course uses no other.
UNIFORM_SEQUENTIAL = {"viridis", "cividis", "magma", "inferno", "plasma",
                      "Greys", "gray", "gray_r", "Greys_r"}
# Every sequential map the course draws with (nnlib/views, nnlib/display, notebooks).
COURSE_SEQUENTIAL = sorted({SEQUENTIAL_CMAP, "viridis", "magma", "Greys", "gray_r"})


def linear_rgb(colour):
    """sRGB (a matplotlib colour, or an array of rows of RGB in [0, 1]) to linear RGB."""
    c = np.asarray(to_rgb(colour) if isinstance(colour, str) else colour, dtype=float)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def simulate(rgb, vision):
    """Linear RGB as seen with ``vision`` (a key of MACHADO_2009, or None)."""
    if vision is None:
        return rgb
    return np.clip(rgb @ np.asarray(MACHADO_2009[vision]).T, 0.0, 1.0)


_SRGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                         [0.2126729, 0.7151522, 0.0721750],
                         [0.0193339, 0.1191920, 0.9503041]])


def lab(rgb):
    """Linear RGB to CIELAB (D65 white)."""
    t = (rgb @ _SRGB_TO_XYZ.T) / _SRGB_TO_XYZ.sum(axis=1)
    eps, kappa = 216 / 24389, 24389 / 27
    f = np.where(t > eps, np.cbrt(t), (kappa * t + 16) / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]),
                     200 * (f[..., 1] - f[..., 2])], axis=-1)


def ciede2000(lab1, lab2):
    """CIEDE2000 colour difference (kL = kC = kH = 1), as in Sharma, Wu & Dalal (2005)."""
    L1, a1, b1 = np.moveaxis(np.asarray(lab1, dtype=float), -1, 0)
    L2, a2, b2 = np.moveaxis(np.asarray(lab2, dtype=float), -1, 0)
    c_mean = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_mean**7 / (c_mean**7 + 25.0**7)))
    a1, a2 = (1 + g) * a1, (1 + g) * a2
    C1, C2 = np.hypot(a1, b1), np.hypot(a2, b2)
    h1 = np.degrees(np.arctan2(b1, a1)) % 360
    h2 = np.degrees(np.arctan2(b2, a2)) % 360
    achromatic = C1 * C2 == 0
    dh = h2 - h1
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(achromatic, 0.0, dh)
    dH = 2 * np.sqrt(C1 * C2) * np.sin(np.radians(dh) / 2)
    L_mean, C_mean = (L1 + L2) / 2, (C1 + C2) / 2
    h_sum = h1 + h2
    h_mean = np.where(np.abs(h1 - h2) > 180,
                      np.where(h_sum < 360, (h_sum + 360) / 2, (h_sum - 360) / 2), h_sum / 2)
    h_mean = np.where(achromatic, h_sum, h_mean)
    T = (1 - 0.17 * np.cos(np.radians(h_mean - 30)) + 0.24 * np.cos(np.radians(2 * h_mean))
         + 0.32 * np.cos(np.radians(3 * h_mean + 6)) - 0.20 * np.cos(np.radians(4 * h_mean - 63)))
    rotation = 30 * np.exp(-(((h_mean - 275) / 25) ** 2))
    R_C = 2 * np.sqrt(C_mean**7 / (C_mean**7 + 25.0**7))
    S_L = 1 + 0.015 * (L_mean - 50) ** 2 / np.sqrt(20 + (L_mean - 50) ** 2)
    S_C = 1 + 0.045 * C_mean
    S_H = 1 + 0.015 * C_mean * T
    R_T = -np.sin(np.radians(2 * rotation)) * R_C
    dL, dC = (L2 - L1) / S_L, (C2 - C1) / S_C
    dH = dH / S_H
    return np.sqrt(dL**2 + dC**2 + dH**2 + R_T * dC * dH)


def difference(colour1, colour2, vision):
    """CIEDE2000 between two colours as seen with ``vision``."""
    return float(ciede2000(lab(simulate(linear_rgb(colour1), vision)),
                           lab(simulate(linear_rgb(colour2), vision))))


def closest_pair(colours, vision):
    return min((difference(a, b, vision), a, b) for a, b in itertools.combinations(colours, 2))


# --- the tools check themselves -----------------------------------------------------------

@pytest.mark.parametrize("lab1, lab2, expected", [  # Sharma, Wu & Dalal (2005), Table 1
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    ((50.0, 2.5, 0.0), (50.0, 0.0, -2.5), 4.3065),
    ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0009), 7.1792),  # hues 180 degrees apart
    ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0011), 7.2195),
    ((50.0, -0.001, 2.49), (50.0, 0.0009, -2.49), 4.8045),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((90.8027, -2.0831, 1.4410), (91.1528, -1.6435, 0.0447), 1.4441),
])
def test_ciede2000_matches_the_published_test_data(lab1, lab2, expected):
    assert ciede2000(lab1, lab2) == pytest.approx(expected, abs=1e-4)
    assert ciede2000(lab2, lab1) == pytest.approx(expected, abs=1e-4)


def test_lab_of_white_black_and_grey():
    np.testing.assert_allclose(lab(linear_rgb("white")), [100, 0, 0], atol=1e-3)
    np.testing.assert_allclose(lab(linear_rgb("black")), [0, 0, 0], atol=1e-9)
    assert lab(linear_rgb("#777777"))[0] == pytest.approx(50.0, abs=0.5)


def test_simulations_keep_white_and_confuse_what_they_should():
    for vision in MACHADO_2009:  # each row of the matrices sums to 1: greys stay grey
        np.testing.assert_allclose(simulate(np.ones(3), vision), np.ones(3), atol=1e-5)
    # Tritanopia confuses blue with green; protanopia and deuteranopia leave them apart.
    blue, green = PALETTE["blue"], PALETTE["green"]
    assert difference(blue, green, "tritanopia") < difference(blue, green, "deuteranopia")


# --- the palette --------------------------------------------------------------------------

def test_palette_is_okabe_and_itos():
    assert sorted(h.upper() for h in PALETTE.values()) == sorted(OKABE_ITO.values())
    assert PALETTE["orange"] == OKABE_ITO["orange"] and PALETTE["sky"] == OKABE_ITO["sky blue"]
    assert PALETTE["green"] == OKABE_ITO["bluish green"]
    assert PALETTE["purple"] == OKABE_ITO["reddish purple"]
    assert set(COLORS) <= set(PALETTE.values()) and len(set(COLORS)) == len(COLORS)


@pytest.mark.parametrize("vision", VISIONS, ids=lambda v: v or "normal")
def test_every_pair_of_course_colours_stays_apart(vision):
    # The course plots up to all of COLORS together (the axes' colour cycle, a
    # TrainingMonitor's runs, OPTIMIZER_COLORS), so every pair must stay apart.
    gap, a, b = closest_pair(COLORS, vision)
    assert gap > THRESHOLD, f"{a} and {b} are only {gap:.1f} apart ({vision or 'normal'})"


@pytest.mark.parametrize("pair, vision", [
    (("tab:red", "tab:green"), "deuteranopia"),  # matplotlib's default C3 and C2
    (("red", "green"), "protanopia"),  # matplotlib's named red and green
    (("tab:orange", "tab:green"), "protanopia"),  # its C1 and C2
])
def test_the_check_rejects_red_against_green(pair, vision):
    assert difference(*pair, None) > THRESHOLD  # apart for normal vision...
    assert difference(*pair, vision) < THRESHOLD  # ...not for this reader


# --- colour maps --------------------------------------------------------------------------

@pytest.mark.parametrize("name", COURSE_SEQUENTIAL)
def test_sequential_maps_have_steady_lightness_under_every_simulation(name):
    assert SEQUENTIAL_CMAP in UNIFORM_SEQUENTIAL and name in UNIFORM_SEQUENTIAL
    rgb = colormaps[name](np.linspace(0, 1, 256))[:, :3]
    for vision in VISIONS:
        steps = np.diff(lab(simulate(linear_rgb(rgb), vision))[:, 0])
        # strictly monotone lightness: the order of values reads without hue
        assert np.all(steps > 0) or np.all(steps < 0), (name, vision)
        assert abs(steps.sum()) > 60, (name, vision)  # and it spans most of black to white


def _ends_and_middle(cmap):
    return [cmap(0.0)[:3], cmap(0.5)[:3], cmap(1.0)[:3]]


def _gan_decision_cmap():
    from nnlib.views.gan import _decision_cmap

    return _decision_cmap()


@pytest.mark.parametrize("name, make", [
    (DIVERGING_CMAP, lambda: colormaps[DIVERGING_CMAP]),
    ("class_cmap", class_cmap),
    ("GAN decision map", _gan_decision_cmap),
])
@pytest.mark.parametrize("vision", VISIONS, ids=lambda v: v or "normal")
def test_diverging_maps_keep_both_ends_and_the_middle_apart(name, make, vision):
    low, middle, high = _ends_and_middle(make())
    assert difference(low, high, vision) > THRESHOLD, (name, "ends")
    assert difference(low, middle, vision) > THRESHOLD, (name, "low end and middle")
    assert difference(middle, high, vision) > THRESHOLD, (name, "middle and high end")


def test_pale_marks_stand_out_from_white():
    from nnlib.views.backprop import _NEW
    from nnlib.views.gan import _GAP

    for colour in (_NEW, _GAP):  # a step's new values; the gaps between generated digits
        for vision in VISIONS:
            assert difference(colour, "white", vision) > THRESHOLD, (colour, vision)


def test_diverging_map_is_red_blue():
    assert DIVERGING_CMAP in {"RdBu", "RdBu_r", "PuOr", "PuOr_r", "BrBG", "BrBG_r"}


# --- opaque figures (JupyterLab's dark theme) ---------------------------------------------

def _alpha_range(png):
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    if "A" not in image.getbands():
        return (255, 255)
    return image.getchannel("A").getextrema()


def test_course_style_makes_figures_opaque():
    # An inline backend may have left a transparent face (older matplotlib-inline did).
    with mpl.rc_context({"figure.facecolor": (1, 1, 1, 0), "savefig.facecolor": "none",
                         "savefig.transparent": True}):
        use_course_style()
        assert to_rgba(mpl.rcParams["figure.facecolor"])[3] == 1.0
        assert mpl.rcParams["savefig.facecolor"] != "none"
        assert to_rgba(mpl.rcParams["savefig.facecolor"])[3] == 1.0
        assert not mpl.rcParams["savefig.transparent"]
        fig, ax = new_figure()
        ax.plot([0, 1], [0, 1])
        assert _alpha_range(figure_png(fig)) == (255, 255)
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        assert _alpha_range(buf.getvalue()) == (255, 255)


def _views():
    from nnlib.views import VIEWS

    return sorted(VIEWS)


# Building every view takes minutes here (several train or load models), hence `claims`.
@pytest.mark.claims
@pytest.mark.parametrize("name", _views())
def test_every_view_is_opaque(name):
    from nnlib.views import load_view

    view = load_view(name)
    assert _alpha_range(view.png) == (255, 255), f"{name}: transparent pixels in its image"
