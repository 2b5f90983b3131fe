"""Colab and Binder: every link comes from the one slug in nnlib.hosts, and Colab's set-up
cell does nothing elsewhere and fails clearly when it cannot fetch the course.

The whole Colab path (a notebook alone in an empty folder, an environment with Colab's
pins and no nnlib, a file:// clone) runs in `make colab` (scripts/colab_check.py).
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from nnlib import hosts
from nnlib.course import NOTEBOOKS

ROOT = Path(__file__).resolve().parents[1]
HOST_URL = re.compile(r"https://(?:colab\.research\.google\.com/github|mybinder\.org/v2/gh)/"
                      r"([^/\s)]+/[^/\s)]+)/(?:blob/)?([^/?\s)]+)")


def tagged(nb, tag):
    return [cell for cell in nb.cells if tag in cell.metadata.get("tags", [])]


@pytest.mark.parametrize("stem", [nb.stem for nb in NOTEBOOKS])
def test_each_notebook_opens_with_its_badges_and_the_colab_cell(stem):
    nb = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
    first = nb.cells[0]
    assert "host-links" in first.metadata.get("tags", []) and first.source == hosts.badges(stem), (
        f"{stem}: the first cell is not the Colab/Binder badges; run scripts/host_links.py")
    first_code = next(cell for cell in nb.cells if cell.cell_type == "code")
    assert first_code.source == hosts.colab_cell(), (
        f"{stem}: the first code cell is not nnlib.hosts.colab_cell(); run scripts/host_links.py")
    assert len(tagged(nb, "colab-setup")) == 1 and len(tagged(nb, "host-links")) == 1


def test_readme_links_every_notebook_to_colab_and_binder():
    readme = (ROOT / "README.md").read_text()
    for nb in NOTEBOOKS:
        number = nb.stem.split("_", 1)[0]
        row = next(line for line in readme.splitlines() if line.startswith(f"| {number} |"))
        assert f"[Colab][colab-{number}]" in row and f"[Binder][binder-{number}]" in row, row
        assert f"[colab-{number}]: {hosts.colab_url(nb.stem)}" in readme
        assert f"[binder-{number}]: {hosts.binder_url(nb.stem)}" in readme


def test_every_host_link_uses_the_one_configured_slug_and_ref():
    files = [ROOT / "README.md", *sorted((ROOT / "notebooks").glob("*.ipynb"))]
    seen = 0
    for path in files:
        for slug, ref in HOST_URL.findall(path.read_text()):
            seen += 1
            assert (slug, ref) == (hosts.REPOSITORY, hosts.REF), (
                f"{path.name} links {slug}@{ref}; nnlib/hosts.py says "
                f"{hosts.REPOSITORY}@{hosts.REF} (run scripts/host_links.py)")
    assert seen >= 4 * len(NOTEBOOKS)


def run_cell(tmp_path, colab, url=None):
    """Run the Colab cell in a fresh interpreter in an empty folder; return its result.

    The interpreter starts without site-packages (``-S``), like a Colab kernel without
    nnlib: whatever the cell needs before its clone must come from the standard library.
    """
    fake = "import sys, types; sys.modules['google.colab'] = types.ModuleType('google.colab')\n"
    code = (fake if colab else "") + hosts.colab_cell()
    env = dict(os.environ, NNLIB_REPO_URL=url or (tmp_path / "no-such-repo").as_uri())
    return subprocess.run([sys.executable, "-S", "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)


def test_the_colab_cell_does_nothing_outside_colab(tmp_path):
    result = run_cell(tmp_path, colab=False)
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.iterdir()) == [], "the cell wrote files outside Colab"


def test_the_colab_cell_names_the_repository_it_could_not_fetch(tmp_path):
    result = run_cell(tmp_path, colab=True)
    assert result.returncode != 0
    assert f"could not fetch the course from {(tmp_path / 'no-such-repo').as_uri()}" in (
        result.stderr), result.stderr
    assert "RuntimeError" in result.stderr and "ModuleNotFoundError" not in result.stderr


def test_colab_setup_names_a_folder_that_is_not_a_clone(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a clone of the course"):
        hosts.colab_setup(tmp_path)


def test_repository_url_is_overridden_by_the_environment(monkeypatch):
    monkeypatch.delenv("NNLIB_REPO_URL", raising=False)
    assert hosts.repository_url() == f"https://github.com/{hosts.REPOSITORY}"
    monkeypatch.setenv("NNLIB_REPO_URL", "file:///somewhere/clone")
    assert hosts.repository_url() == "file:///somewhere/clone"


def fake_clone(tmp_path):
    clone = tmp_path / "a folder" / hosts.CLONE_DIR  # a space, as in some learners' paths
    (clone / "nnlib").mkdir(parents=True)
    (clone / "data").mkdir()
    (clone / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    return clone


def fake_pip(monkeypatch):
    """Record pip's command lines (and each -c file's pins) instead of running pip."""
    calls = []

    def run(command, capture_output, text):
        assert command[:3] == [sys.executable, "-m", "pip"]
        pins = (Path(command[command.index("-c") + 1]).read_text().split()
                if "-c" in command else [])
        calls.append((command[3:], pins))
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(hosts.subprocess, "run", run)
    monkeypatch.setattr(hosts, "_installed_from", lambda name: None)
    monkeypatch.setattr(sys, "path", list(sys.path))
    return calls


def test_colab_setup_installs_the_clone_and_changes_nothing_installed(tmp_path, monkeypatch):
    clone = fake_clone(tmp_path)
    calls = fake_pip(monkeypatch)
    # Colab's torch may be newer than the cap that picks this machine's CPU wheel.
    versions = {"torch": "2.99.0+cu126", "numpy": "2.3.0", "matplotlib": "3.10.0",
                "ipywidgets": "7.7.1", "ipykernel": "6.17.1", "ipython": "7.34.0"}
    monkeypatch.setattr(hosts, "_installed", versions.get)
    for _ in range(2):  # as when the cell runs twice (the install is faked: both install)
        assert hosts.colab_setup(clone) == clone.resolve()
    assert [args for args, _ in calls] == [["install", "--no-deps", "-e", str(clone.resolve()),
                                            "--quiet"]] * 2
    assert sys.path.count(str(clone.resolve())) == 1


def test_colab_setup_adds_only_what_is_missing_holding_the_host_pins(tmp_path, monkeypatch):
    clone = fake_clone(tmp_path)
    calls = fake_pip(monkeypatch)
    versions = {"torch": "2.99.0+cu126", "numpy": "2.3.0", "ipywidgets": "7.7.1",
                "ipykernel": "6.17.1", "ipython": "7.34.0"}  # no matplotlib
    monkeypatch.setattr(hosts, "_installed", versions.get)
    hosts.colab_setup(clone)
    (missing_args, pins), (editable_args, _) = calls
    assert [a for a in missing_args if a.startswith("matplotlib")] == missing_args[3:4]
    assert len(missing_args) == 5 and missing_args[:2] == ["install", "-c"]
    assert sorted(pins) == sorted(f"{n}=={versions[n]}" for n in hosts.HOST_PINNED)
    assert editable_args[:2] == ["install", "--no-deps"]


def test_colab_setup_reports_pip_errors(tmp_path, monkeypatch):
    clone = fake_clone(tmp_path)
    fake_pip(monkeypatch)
    monkeypatch.setattr(hosts.subprocess, "run", lambda command, capture_output, text:
                        subprocess.CompletedProcess(command, 1, "", "no space left"))
    with pytest.raises(RuntimeError, match="no space left"):
        hosts.colab_setup(clone)


def test_colab_setup_skips_pip_when_the_clone_is_already_installed(tmp_path, monkeypatch):
    clone = fake_clone(tmp_path)
    monkeypatch.setattr(hosts, "_installed_from", lambda name: clone.resolve())
    monkeypatch.setattr(hosts.subprocess, "run", lambda *a, **k: pytest.fail("pip ran again"))
    monkeypatch.setattr(sys, "path", list(sys.path))
    hosts.colab_setup(clone)
    assert str(clone.resolve()) in sys.path


def test_an_editable_install_is_found_at_a_path_with_spaces(tmp_path, monkeypatch):
    clone = fake_clone(tmp_path)

    class Dist:  # pip writes the folder as a percent-encoded file:// URL
        def __init__(self, text):
            self.text = text

        def read_text(self, name):
            return self.text if name == "direct_url.json" else None

    direct_url = json.dumps({"url": clone.as_uri(), "dir_info": {"editable": True}})
    found = [Dist(None), Dist(direct_url)]
    assert "%20" in clone.as_uri()
    monkeypatch.setattr(hosts.importlib.metadata, "distributions", lambda name: iter(found))
    assert hosts._installed_from("nnlib") == clone.resolve()
