"""A Colab-like run: two notebooks, alone in an empty folder, set themselves up and pass.

    .venv-colab/bin/python scripts/colab_check.py [NOTEBOOK ...]      (make colab)

What a learner gets in Google Colab, rebuilt here without Colab:

* an environment without nnlib, with Colab's pins: ipywidgets 7.7.1, ipykernel 6.17.1
  and IPython 7.34.0, and the oldest torch and numpy the course supports (.venv-colab,
  built by ``make setup-colab`` from scripts/colab_constraints.txt);
* a ``google.colab`` stand-in (scripts/colab_standin), imported when the kernel starts;
* a notebook copied alone into an empty folder, as Colab opens one from GitHub;
* ``NNLIB_REPO_URL`` pointing at a local clone (``file://``) of this working tree, made
  here with the tree's current files committed on the branch nnlib/hosts.py names.

Each notebook runs top to bottom in a fresh kernel. The run fails unless every cell
passes (so every assert holds), the set-up cell ran twice without harm, nnlib was
imported from the clone the cell made, no package Colab pins changed, and every live
view and training monitor rendered its first image. It prints how long each step took
and what the set-up installed.

It runs in .venv-colab, which has no nnlib: nothing of the course is imported here.
"""

import base64
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbclient
import nbformat

ROOT = Path(__file__).resolve().parents[1]
STAND_IN = ROOT / "scripts" / "colab_standin"
NOTEBOOKS = ("02_activations", "08_rnn")  # one numpy notebook, one torch notebook
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
IMAGE_MAGIC = {"image/png": b"\x89PNG", "image/jpeg": b"\xff\xd8\xff"}
CELL_TIMEOUT = 300
SETUP_TAG = "colab-setup"  # scripts/host_links.py tags each notebook's set-up cell so


def load_hosts():
    """nnlib/hosts.py read as a file (standard library only), without importing nnlib."""
    spec = importlib.util.spec_from_file_location("course_hosts", ROOT / "nnlib" / "hosts.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


def local_clone(target, ref):
    """A repository at ``target`` whose branch ``ref`` holds this working tree's files.

    The files are those git would carry: tracked ones and untracked ones it does not
    ignore. So the run tests what is on disk, committed or not.
    """
    listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT)
    target.mkdir(parents=True)
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted on disk is left out
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    git("init", "--quiet", "--initial-branch", ref, cwd=target)
    git("add", "--all", cwd=target)
    git("-c", "user.name=colab-check", "-c", "user.email=colab-check@localhost",
        "commit", "--quiet", "--message", "working tree", cwd=target)
    return target


def frozen():
    """``name -> version`` of every package in this environment (pip's view)."""
    out = subprocess.run([sys.executable, "-m", "pip", "list", "--format", "json"],
                         check=True, capture_output=True, text=True).stdout
    return {p["name"].lower(): p["version"] for p in json.loads(out)}


def kernel_environment(workdir, repo_url):
    """The kernel's environment: Colab's stand-in on the path and imported at start-up."""
    ipython_dir = workdir.parent / "ipython"
    startup = ipython_dir / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00-colab.py").write_text("import google.colab  # noqa: F401\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NNLIB_DATA_DIR")}
    env.update(PYTHONPATH=str(STAND_IN), IPYTHONDIR=str(ipython_dir), NNLIB_REPO_URL=repo_url,
               MPLBACKEND="module://matplotlib_inline.backend_inline",
               PYDEVD_DISABLE_FILE_VALIDATION="1")  # ipykernel 6.17's debugger warnings
    return env


def prepared(path, setup_tag):
    """The notebook as a learner runs it, with its set-up cell run twice and a probe at the end.

    Running the set-up cell a second time right after the first checks that it is safe
    to rerun; the last cell reports where nnlib was imported from.
    """
    nb = nbformat.read(path, as_version=4)
    index = next(i for i, c in enumerate(nb.cells) if setup_tag in c.metadata.get("tags", []))
    nb.cells.insert(index + 1, nbformat.v4.new_code_cell(nb.cells[index].source,
                                                         metadata={"tags": [setup_tag]}))
    nb.cells.append(nbformat.v4.new_code_cell(
        "import nnlib\nprint('NNLIB_FROM', nnlib.__file__)"))
    return nb


def rendered_images(nb):
    """(live views, their first images that are real PNG/JPEG bytes), over all outputs."""
    views, images = 0, 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW not in data:
                continue
            views += 1
            for mime, magic in IMAGE_MAGIC.items():
                if mime in data and base64.b64decode(data[mime])[:len(magic)] == magic:
                    images += 1
                    break
    return views, images


def cell_seconds(cell):
    """How long a cell ran, from the timestamps nbclient records."""
    from datetime import datetime

    times = cell.metadata.get("execution", {})
    start, end = times.get("iopub.execute_input"), times.get("shell.execute_reply")
    if not (start and end):
        return float("nan")
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def printed(nb, marker):
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            for line in output.get("text", "").splitlines():
                if line.startswith(marker):
                    return line[len(marker):].strip()
    return None


def main(stems):
    hosts = load_hosts()
    before = frozen()
    print("Colab-like environment: " + ", ".join(
        f"{name} {before.get(name, '(none)')}" for name in (*hosts.HOST_PINNED, "numpy")))
    if "nnlib" in before:
        sys.exit("colab check: nnlib is installed in this environment; a Colab kernel has none "
                 "(rebuild it: rm -rf .venv-colab && make setup-colab)")
    failures = []
    try:
        run(hosts, stems, before, failures)
    finally:  # the set-up's editable install points into the deleted clone
        subprocess.run([sys.executable, "-m", "pip", "uninstall", "--quiet", "--yes", "nnlib"],
                       capture_output=True)
    if failures:
        sys.exit("colab check FAILED:\n" + "\n".join(failures))
    print(f"colab check passed: {', '.join(stems)}")


def run(hosts, stems, before, failures):
    with tempfile.TemporaryDirectory(prefix="colab-check-") as tmp:
        tmp = Path(tmp)
        start = time.perf_counter()
        origin = local_clone(tmp / "origin", hosts.REF)
        print(f"local clone of the working tree at {origin} (branch {hosts.REF}): "
              f"{time.perf_counter() - start:.1f} s")
        workdir = tmp / "content"  # Colab's working folder is /content
        workdir.mkdir()
        env = kernel_environment(workdir, origin.as_uri())
        for stem in stems:
            copy = workdir / f"{stem}.ipynb"
            shutil.copy(ROOT / "notebooks" / f"{stem}.ipynb", copy)
            nb = prepared(copy, SETUP_TAG)
            client = nbclient.NotebookClient(
                nb, timeout=CELL_TIMEOUT, kernel_name="python3", store_widget_state=True,
                resources={"metadata": {"path": str(workdir)}})
            start = time.perf_counter()
            try:
                client.execute(env=env, cwd=str(workdir))
            except nbclient.exceptions.CellExecutionError as error:
                failures.append(f"{stem}: a cell failed:\n{str(error)[-3000:]}")
                continue
            seconds = time.perf_counter() - start
            setup = [cell_seconds(c) for c in nb.cells if SETUP_TAG in c.metadata.get("tags", [])]
            views, images = rendered_images(nb)
            source = printed(nb, "NNLIB_FROM")
            clone = (workdir / hosts.CLONE_DIR).resolve()
            print(f"{stem}: ran in {seconds:.1f} s (set-up cell {setup[0]:.1f} s, run again "
                  f"{setup[1]:.1f} s); {views} live views and monitors, "
                  f"{images} rendered their first image; nnlib from {source}")
            if views == 0 or images != views:
                failures.append(f"{stem}: {views - images} of {views} live views rendered "
                                "no image")
            if not source or not Path(source).resolve().is_relative_to(clone):
                failures.append(f"{stem}: nnlib came from {source}, not from the clone {clone}")
        after = frozen()
        added = {k: v for k, v in after.items() if k not in before}
        changed = {k: (before[k], v) for k, v in after.items() if k in before and before[k] != v}
        print("the set-up installed: " + (", ".join(f"{k} {v}" for k, v in added.items())
                                          or "nothing"))
        if changed:
            failures.append("the set-up changed installed packages: " + ", ".join(
                f"{k} {old} -> {new}" for k, (old, new) in changed.items()))
        for name in hosts.HOST_PINNED:
            if name in before and after.get(name) != before[name]:
                failures.append(f"{name} changed from {before[name]} to {after.get(name)}")
        if "nnlib" not in added:
            failures.append("nnlib was not installed by the set-up cell")


if __name__ == "__main__":
    main(sys.argv[1:] or NOTEBOOKS)
