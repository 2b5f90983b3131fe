"""The static site (scripts/build_site.py): two notebooks built, checked, then broken on purpose."""

import shutil

import pytest
from helpers import load_script

from nnlib import hosts

STEMS = ["00_start_here", "01_neurons"]


def _site_script():
    return load_script("build_site")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    build = _site_script()
    out = tmp_path_factory.mktemp("site") / "site"
    build.build_site(out, STEMS, quiet=True)
    return build, out


def test_built_site_passes_the_check(site):
    build, out = site
    assert build.check_site(out, STEMS) == []
    assert {p.name for p in out.glob("*.html")} == {"index.html", *(f"{s}.html" for s in STEMS)}


def test_pages_are_made_for_reading_offline(site):
    _, out = site
    index = (out / "index.html").read_text()
    assert 'href="00_start_here.html"' in index and 'href="01_neurons.html"' in index
    assert "02_activations" not in index  # only what was built is listed
    page = (out / "01_neurons.html").read_text()
    # the badges became plain links; the Colab set-up cell is gone
    assert "colab-badge.svg" not in page and "badge_logo.svg" not in page
    assert "Run this notebook" in page and hosts.colab_url("01_neurons") in page
    assert "google.colab" not in page
    # navigation at the top and the bottom; the next notebook was not built: GitHub
    assert page.count('href="index.html"') >= 2 and page.count('href="00_start_here.html"') >= 2
    assert "02_activations.html" not in page
    # live views show their still image and say how to run them
    assert "application/vnd.jupyter.widget" not in page
    assert "Live view, shown here as a still image" in page
    # a solution link points at the copy in the site
    assert 'href="solutions/01_neurons.py"' in page and (out / "solutions/01_neurons.py").is_file()
    assert "cdn.jsdelivr.net" not in page and "require.min.js" not in page


def test_links_to_unbuilt_notebooks_go_to_github(site):
    build, _ = site
    pre = build.SitePreprocessor(stems={"01_neurons": (None, None)})
    assert pre.site_target("01_neurons.ipynb#Exercise-1") == "01_neurons.html#Exercise-1"
    assert pre.site_target("02_activations.ipynb") == hosts.github_url(
        "notebooks/02_activations.ipynb")
    assert pre.site_target("https://example.org/x.ipynb") == "https://example.org/x.ipynb"
    assert pre.site_target("#top") == "#top"
    assert pre.site_target("../data/LICENSES.md") == "data/LICENSES.md"
    assert "data/LICENSES.md" in pre.copies


def test_check_catches_planted_faults(site, tmp_path):
    build, out = site
    broken = tmp_path / "site"
    shutil.copytree(out, broken)
    page = broken / "01_neurons.html"
    page.write_text(page.read_text().replace("</main>", (
        '<a href="02_missing.html">gone</a>'
        '<a href="index.html#no-such-heading">bad anchor</a>'
        '<a href="#nowhere">bad local anchor</a>'
        '<img src="figures/gone.png">'
        '<img src="data:image/png;base64,">'
        '<img src="data:image/png;base64,%%%">'
        '<img src="https://example.org/badge.svg">'
        '<script src="https://cdn.jsdelivr.net/npm/@jupyter-widgets/html-manager@1/embed-amd.js">'
        "</script>"
        '<script type="application/vnd.jupyter.widget-view+json">{}</script>'
        "</main>"), 1))
    (broken / "00_start_here.html").unlink()
    errors = "\n".join(build.check_site(broken, STEMS))
    for expected in ("00_start_here.html: missing page",
                     "02_missing.html", "no id or name 'no-such-heading'",
                     "no id or name 'nowhere'", "figures/gone.png", "empty data: URI",
                     "undecodable base64", "remote image", "widget-manager (or require.js) script",
                     "widget mime type"):
        assert expected in errors, f"{expected!r} not reported in:\n{errors}"
    assert "01_neurons.html: <a href=\"02_missing.html\">" in errors  # names file and link
    assert build.main(["--check", "--out", str(broken), *STEMS]) == 1
