"""Print pip constraints that pin each runtime dependency to its declared lower bound.

    python scripts/oldest_constraints.py > constraints.txt

`make notebooks-oldest` builds a second environment (.venv-oldest) with these
constraints and runs every notebook in it, so the lower bounds in pyproject.toml are
tested rather than hoped for. A dependency whose lower bound cannot be installed here
names the version that is tested instead in TESTED_INSTEAD, with the reason.
"""

import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]

# torch: every release on the registries this project's machines reach is a CUDA build
# of several GB, except the local 2.13.0 CPU wheel; the bound in pyproject.toml says so.
TESTED_INSTEAD = {"torch": "2.13.0"}


def lower_bound(requirement):
    """The version in a requirement's `>=` clause, or None if it has none."""
    versions = [spec.version for spec in requirement.specifier if spec.operator == ">="]
    return versions[0] if versions else None


def constraints():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = []
    for text in project["dependencies"]:
        req = Requirement(text)
        version = TESTED_INSTEAD.get(req.name) or lower_bound(req)
        if version is None:
            sys.exit(f"{req.name} has no lower bound in pyproject.toml: declare one")
        lines.append(f"{req.name}=={version}")
    return lines


if __name__ == "__main__":
    print("\n".join(constraints()))
