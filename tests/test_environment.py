"""The set-up files agree with each other: pyproject, environment.yml, README, notebooks."""

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from nnlib.course import NOTEBOOKS, course_map

ROOT = Path(__file__).resolve().parents[1]
# pip name -> conda-forge name, where they differ.
CONDA_NAMES = {"torch": "pytorch-cpu", "matplotlib": "matplotlib-base"}


def pyproject_requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    reqs = project["dependencies"] + extras["lab"] + extras["test"]
    return {Requirement(r).name.lower(): str(Requirement(r).specifier) for r in reqs}


def conda_requirements():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = {}
    for dep in env["dependencies"]:
        if not isinstance(dep, str):
            continue
        name, spec = re.match(r"([A-Za-z0-9_.-]+)\s*(.*)", dep).groups()
        deps[name.lower()] = spec
    return env, deps


def test_environment_yml_matches_pyproject():
    env, conda = conda_requirements()
    assert env["channels"] == ["conda-forge"]
    assert conda["python"] == "=3.11"
    for name, spec in pyproject_requirements().items():
        conda_name = CONDA_NAMES.get(name, name)
        assert conda_name in conda, f"{name} is in pyproject.toml but not environment.yml"
        # Same bounds, in any order.
        assert set(conda[conda_name].split(",")) == set(spec.split(",")), (
            f"{name}: pyproject says {spec!r}, environment.yml says {conda[conda_name]!r}"
        )
    assert "pytorch" not in conda and "pytorch-cpu" in conda, "Binder must get CPU-only torch"


def test_binder_installs_nnlib_from_the_repo():
    post_build = (ROOT / "postBuild").read_text()
    assert "pip install --no-deps -e ." in post_build
    assert (ROOT / "postBuild").stat().st_mode & 0o111, "postBuild must be executable"


def test_torch_is_capped_to_the_local_cpu_wheel():
    spec = pyproject_requirements()["torch"]
    assert "<2.14" in spec


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make lab" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert [line for line in ci.splitlines() if line.startswith("exec")] == ["exec make test"]


def test_every_notebook_is_in_the_course_and_the_readme():
    readme = (ROOT / "README.md").read_text()
    stems = {nb.stem for nb in NOTEBOOKS}
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert path.stem in stems, f"{path.name} is missing from nnlib.course.NOTEBOOKS"
        assert f"notebooks/{path.name}" in readme, f"README's course map does not link {path.name}"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda nb: nb.stem)
def test_course_map_links_only_written_notebooks(nb, tmp_path):
    (tmp_path / "00_start_here.ipynb").write_text("{}")
    text = course_map(tmp_path)
    if nb.stem == "00_start_here":
        assert f"({nb.stem}.ipynb)" in text
    else:
        assert f"({nb.stem}.ipynb)" not in text and "in preparation" in text


def _workflow(name):
    return yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())


def _runs(job):
    return [step["run"].strip() for step in job["steps"] if "run" in step]


def test_github_workflow_runs_exactly_the_readme_test_command():
    workflow = _workflow("test.yml")
    # PyYAML reads the bare key `on` as True (YAML 1.1).
    triggers = workflow.get("on", workflow.get(True))
    assert {"push", "pull_request"} <= set(triggers)
    (job,) = workflow["jobs"].values()
    # Besides `make test`, only git's trust in the checkout (owned by another user than the
    # container's root) may run.
    runs = _runs(job)
    assert runs.count("make test") == 1 and runs[-1] == "make test", runs
    assert all(r == "make test" or r.startswith("git config --global --add safe.directory ")
               for r in runs), runs
    # Debian, as root: the Makefile apt-installs Debian's chromium for the browser step.
    assert job["container"].endswith("-bookworm") or "debian" in job["container"]
    assert job["env"]["TORCH_INDEX"] == "https://download.pytorch.org/whl/cpu"
    uploads = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact")]
    assert uploads and uploads[0]["if"] == "always()"
    assert uploads[0]["with"]["path"].rstrip("/") == "artifacts"


def test_site_workflow_builds_and_deploys_site():
    workflow = _workflow("site.yml")
    triggers = workflow.get("on", workflow.get(True))
    # Published only from main, and only after its tests passed.
    assert triggers["workflow_run"] == {"workflows": ["test"], "types": ["completed"],
                                        "branches": ["main"]}
    assert _workflow("test.yml")["name"] == "test"
    (build,) = [job for job in workflow["jobs"].values() if "make site" in _runs(job)]
    assert "workflow_run.conclusion == 'success'" in build["if"]
    assert {"pages": "write", "id-token": "write"}.items() <= workflow["permissions"].items()
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    assert "make site" in [step.get("run", "").strip() for step in steps]
    uploads = [s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact")]
    assert [s["with"]["path"].rstrip("/") for s in uploads] == ["site"]
    deploy = [job for job in workflow["jobs"].values()
              if any(s.get("uses", "").startswith("actions/deploy-pages") for s in job["steps"])]
    assert len(deploy) == 1 and deploy[0]["environment"]["name"] == "github-pages"
