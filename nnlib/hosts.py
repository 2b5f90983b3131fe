"""Where a learner opens the course: the repository, and the Colab and Binder links.

The repository and the ref that learners run are named once, here. Everything that
points at them is written from these two names by ``python scripts/host_links.py``:
each notebook's "Open in Colab" and Binder badges and its Colab set-up cell, and the README's
Colab and Binder links. ``tests/test_hosts.py`` fails when one of them has drifted.

In Google Colab a notebook opened from GitHub arrives alone, without ``nnlib`` or
``data/``. Its first code cell (``colab_cell()``) then clones the repository and calls
``colab_setup``, which installs ``nnlib`` from the clone without changing the packages
Colab pins. Anywhere else the cell does nothing. The environment variable
``NNLIB_REPO_URL`` replaces the repository's URL, so a test can point the cell at a
local clone (``file:///path/to/clone``).

Standard library only: this module runs before anything else of the course is installed.
"""

import importlib
import importlib.metadata
import os
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["REPOSITORY", "REF", "CLONE_DIR", "HOST_PINNED", "repository_url", "colab_url",
           "binder_url", "github_url", "badges", "colab_cell", "colab_setup"]

REPOSITORY = "nn-course/nn-course"  # owner/name on GitHub
# The branch or tag that the links open and Colab clones. Until the first release this is
# main; a release sets it to its tag (then run scripts/host_links.py), so that a notebook
# opened from that release's links always gets the nnlib it was written with.
REF = "main"
CLONE_DIR = "nn-course"  # where the Colab cell clones it, under Colab's working folder
# Packages Colab ships and pins: installing nnlib must never change them (a new
# ipykernel, ipython or ipywidgets needs a runtime restart; a new torch is gigabytes).
HOST_PINNED = ("ipykernel", "ipython", "ipywidgets", "torch")


def repository_url():
    """The URL that Colab clones: ``$NNLIB_REPO_URL``, else the GitHub repository's."""
    return os.environ.get("NNLIB_REPO_URL") or f"https://github.com/{REPOSITORY}"


def colab_url(stem):
    """The link that opens ``notebooks/{stem}.ipynb`` in Google Colab."""
    return f"https://colab.research.google.com/github/{REPOSITORY}/blob/{REF}/notebooks/{stem}.ipynb"


def binder_url(stem):
    """The link that opens ``notebooks/{stem}.ipynb`` in JupyterLab on mybinder.org."""
    return (f"https://mybinder.org/v2/gh/{REPOSITORY}/{REF}"
            f"?urlpath=lab/tree/notebooks/{stem}.ipynb")


def github_url(path):
    """The page of ``path`` (a file of the repository, relative to its root) on GitHub."""
    return f"https://github.com/{REPOSITORY}/blob/{REF}/{path}"


def badges(stem):
    """The Markdown at the top of a notebook: the "Open in Colab" badge, then Binder's."""
    return (f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"({colab_url(stem)}) "
            f"[![Binder](https://mybinder.org/badge_logo.svg)]({binder_url(stem)})")


def colab_cell():
    """The source of every notebook's first code cell: Colab set-up, elsewhere nothing.

    Only the clone is written out here; what follows it is ``colab_setup``, read from the
    clone. A failed clone stops the cell with git's own message.
    """
    return (
        "# In Google Colab: fetch the course's library and data. Elsewhere this does nothing.\n"
        "import os\n"
        "import subprocess\n"
        "import sys\n"
        "\n"
        "if \"google.colab\" in sys.modules:\n"
        f"    if not os.path.isdir(\"{CLONE_DIR}\"):\n"
        f"        url = os.environ.get(\"NNLIB_REPO_URL\", \"https://github.com/{REPOSITORY}\")\n"
        f"        git = [\"git\", \"clone\", \"--quiet\", \"--depth=1\", \"--branch={REF}\", url, \"{CLONE_DIR}\"]\n"  # noqa: E501
        "        done = subprocess.run(git, capture_output=True, text=True)\n"
        "        if done.returncode != 0:\n"
        "            raise RuntimeError(f\"could not fetch the course from {url}:\\n{done.stderr}\")\n"  # noqa: E501
        f"    sys.path.insert(0, os.path.abspath(\"{CLONE_DIR}\"))\n"
        "    from nnlib.hosts import colab_setup\n"
        "\n"
        f"    colab_setup(\"{CLONE_DIR}\")"
    )


def _installed(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _installed_from(name):
    """The folder an editable install of ``name`` points at, or None.

    Looks through every copy of the package's metadata on the path: the clone's own
    ``nnlib.egg-info`` (written there by the editable install) comes first and has no
    ``direct_url.json``; the installed one in site-packages does.
    """
    import json
    from urllib.parse import urlparse
    from urllib.request import url2pathname

    for dist in importlib.metadata.distributions(name=name):
        url = json.loads(dist.read_text("direct_url.json") or "{}").get("url", "")
        if url.startswith("file://"):
            return Path(url2pathname(urlparse(url).path)).resolve()
    return None


def _requirements(clone):
    """``(name, requirement)`` for each runtime dependency in the clone's pyproject.toml."""
    import re
    import tomllib

    project = tomllib.loads((clone / "pyproject.toml").read_text())["project"]
    return [(re.match(r"[A-Za-z0-9_.-]+", text).group(0).lower(), text)
            for text in project["dependencies"]]


def _pip(*args):
    """Run pip in this kernel's interpreter; its error output becomes the exception."""
    done = subprocess.run([sys.executable, "-m", "pip", *args, "--quiet"], capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise RuntimeError(f"pip {' '.join(args)} failed:\n{done.stderr[-3000:]}")


def colab_setup(clone_dir=CLONE_DIR):
    """Make ``nnlib`` and ``data/`` of a clone usable in this kernel; safe to call again.

    Installs the clone in editable mode (so ``data/`` is read from the clone) without its
    dependencies, so nothing Colab ships is upgraded or downgraded: not even torch, whose
    upper bound in pyproject.toml only picks the course machines' CPU wheel and may be
    older than Colab's. Only a dependency that is missing altogether is installed, with
    every package of ``HOST_PINNED`` held at its version. A second call finds nnlib
    installed and only fixes the path. Returns the clone's absolute path.
    """
    clone = Path(clone_dir).resolve()
    if not (clone / "nnlib").is_dir() or not (clone / "data").is_dir():
        raise FileNotFoundError(
            f"{clone} is not a clone of the course (no nnlib/ or data/ in it): check that "
            f"git could reach {repository_url()} (ref {REF}), delete the folder and run the "
            "cell again")
    importlib.invalidate_caches()  # see a package pip installed since this kernel started
    if _installed_from("nnlib") != clone:
        pins = [f"{name}=={version}" for name in HOST_PINNED if (version := _installed(name))]
        missing = [text for name, text in _requirements(clone) if _installed(name) is None]
        print(f"Installing nnlib from {clone}, keeping {', '.join(pins) or 'everything'}"
              + (f"; adding {', '.join(missing)}" if missing else "") + " ...")
        if missing:
            with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as constraints:
                constraints.write("\n".join(pins) + "\n")
            try:
                _pip("install", "-c", constraints.name, *missing)
            finally:
                os.unlink(constraints.name)
        _pip("install", "--no-deps", "-e", str(clone))
    if str(clone) not in sys.path:
        sys.path.insert(0, str(clone))
    while sys.path.count(str(clone)) > 1:  # the cell inserts it on every run
        sys.path.remove(str(clone))
    importlib.invalidate_caches()
    return clone
