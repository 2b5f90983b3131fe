"""Grade notebooks: run each one in a fresh kernel and report every exercise's result.

    python -m nnlib.grade alice/08_rnn.ipynb bob/08_rnn.ipynb ... [--timeout 300] [--csv FILE]
    make grade NB="submissions/*.ipynb"

For a teacher with a class's notebooks, and for a learner checking their own work.
Each notebook is copied into a temporary folder of its own (all copies are made before
any notebook runs, so a notebook that deletes files cannot touch another's), then
executed top to bottom in a new kernel, in a child process that is killed with its
kernel after ``--timeout`` seconds. A cell that raises does not stop the run: the
cells after it still execute, as when a learner presses "Run All" and reads on.

What a notebook achieved is what its own check cells reported: while the grader runs,
every ``Exercise.check`` appends its result to a log (``nnlib.exercises.GRADE_LOG``).
No hidden test runs, only the checkers the learner sees. The exercises a notebook owes
are those of the ``nnlib.exercises`` modules it imports. Each gets one of:

* ``passed``;
* ``not attempted`` (the function still raises ``NotImplementedError``);
* ``not run`` (no check ran: the cell was deleted, or the notebook stopped first);
* the checker's diagnosis, e.g. ``✘ rnn_step on case a batch of one: you forgot the bias``.

The table has one row per exercise and one column per notebook, grouped by topic;
``--csv`` also writes one line per (notebook, exercise).
"""

import argparse
import csv
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from nnlib.exercises import GRADE_LOG

__all__ = ["NotebookGrade", "expected_exercises", "grade_notebooks", "format_table", "write_csv",
           "main"]

PASSED, NOT_ATTEMPTED, NOT_RUN = "passed", "not attempted", "not run"
_IMPORT = re.compile(r"from\s+nnlib\.exercises\s+import\s+(\w+)|"
                     r"import\s+nnlib\.exercises\.(\w+)|from\s+nnlib\.exercises\.(\w+)\s+import")


@dataclass
class NotebookGrade:
    """One notebook's run: how it went, and each exercise's result, in course order."""

    path: str
    topics: list  # the nnlib.exercises modules it imports
    status: str  # "ran", "ran with N cell errors", "timed out after S s", "could not run: ..."
    seconds: float
    results: dict = field(default_factory=dict)  # exercise name -> result line


def _notebook_code(path):
    notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    return ["".join(cell.get("source", "")) for cell in notebook.get("cells", [])
            if cell.get("cell_type") == "code"]


def expected_exercises(path):
    """``(topics, names)``: the exercise modules the notebook imports and their exercises."""
    topics = []
    for source in _notebook_code(path):
        for match in _IMPORT.finditer(source):
            topic = next(group for group in match.groups() if group)
            if topic not in topics:
                topics.append(topic)
    names = []
    for topic in topics:
        try:
            module = importlib.import_module(f"nnlib.exercises.{topic}")
        except ImportError:
            continue
        names += [exercise.name for exercise in getattr(module, "EXERCISES", {}).values()]
    return topics, names


def _result_line(record):
    if record["passed"]:
        return PASSED
    if record["diagnosis"] == "not-implemented":
        return NOT_ATTEMPTED
    return record["message"]


def _kill_tree(process):
    """Kill a child process and everything it started (the kernel runs in its own session)."""
    import psutil

    try:
        parent = psutil.Process(process.pid)
        family = parent.children(recursive=True) + [parent]
    except psutil.NoSuchProcess:
        return
    for member in family:
        try:
            member.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(family, timeout=10)


def _run_one(copy, log, timeout):
    """Execute ``copy`` in a child process; returns its status line and the seconds it took."""
    env = {**os.environ, GRADE_LOG: str(log), "MPLBACKEND": "Agg"}
    command = [sys.executable, "-m", "nnlib.grade", "--execute-one", str(copy),
               "--timeout", str(timeout)]
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=copy.parent, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_tree(process)
        process.communicate()
        return f"timed out after {timeout:g} s", time.perf_counter() - start
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        lines = (err or out).strip().splitlines() or ["no message"]
        return f"could not run: {lines[-1]}", seconds
    errors = json.loads(out.strip().splitlines()[-1])["errors"]
    if not errors:
        return "ran", seconds
    first = errors[0]
    return (f"ran with {len(errors)} cell error{'s' * (len(errors) > 1)} (first: code cell "
            f"{first['cell']}, {first['error']})", seconds)


def _execute_one(path, timeout):
    """In the child process: run every cell, carrying on after errors, and print them as JSON."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            allow_errors=True, resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    errors = []
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    for index, cell in enumerate(code_cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                errors.append({"cell": index, "error": f"{output['ename']}: {output['evalue']}"})
    print(json.dumps({"errors": errors}))


def grade_notebooks(paths, timeout=300.0, progress=None):
    """Run each notebook in ``paths`` in its own kernel and temporary folder; grade it.

    Args:
        paths: notebook files.
        timeout: seconds each notebook may take, kernel start included.
        progress: called with each ``NotebookGrade`` as it is finished (for printing).

    Returns:
        a list of ``NotebookGrade``, in the order of ``paths``.
    """
    paths = [Path(p) for p in paths]
    with tempfile.TemporaryDirectory(prefix="nnlib-grade-") as scratch:
        copies = []
        for k, path in enumerate(paths):  # every copy first: no notebook can delete another
            folder = Path(scratch) / f"{k:03d}"
            folder.mkdir()
            if path.is_file():
                shutil.copy2(path, folder / path.name)
                copies.append((folder / path.name, expected_exercises(path)))
            else:
                copies.append((None, ([], [])))
        grades = []
        for k, (path, (copy, (topics, names))) in enumerate(zip(paths, copies)):
            if copy is None:
                grade = NotebookGrade(str(path), [], "could not run: no such file", 0.0)
            else:
                log = Path(scratch) / f"{k:03d}.log"
                status, seconds = _run_one(copy, log, timeout)
                grade = NotebookGrade(str(path), topics, status, seconds,
                                      {name: NOT_RUN for name in names})
                for record in _read_log(log):
                    if record.get("exercise") in grade.results:  # the last check counts
                        grade.results[record["exercise"]] = _result_line(record)
            grades.append(grade)
            if progress is not None:
                progress(grade)
    return grades


def _read_log(log):
    try:
        lines = log.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


def _short(result):
    return result if result in (PASSED, NOT_ATTEMPTED, NOT_RUN) else "✘ see below"


def format_table(grades):
    """The results as text: per topic, a table of exercise × notebook, then each diagnosis."""
    lines = []
    topics = []
    for grade in grades:
        key = tuple(grade.topics)
        if key not in topics:
            topics.append(key)
    for key in topics:
        group = [g for g in grades if tuple(g.topics) == key]
        names = list(dict.fromkeys(n for g in group for n in g.results))
        title = ", ".join(key) if key else "no exercises"
        lines.append(f"== {title} ==")
        headers = [Path(g.path).name if len({Path(x.path).name for x in group}) == len(group)
                   else g.path for g in group]
        width = max([len("exercise")] + [len(n) for n in names])
        columns = [max(len(h), 13) for h in headers]
        lines.append("  ".join(["exercise".ljust(width)]
                               + [h.ljust(c) for h, c in zip(headers, columns)]))
        for name in names:
            cells = [_short(g.results.get(name, "")).ljust(c) for g, c in zip(group, columns)]
            lines.append("  ".join([name.ljust(width)] + cells).rstrip())
        for g in group:
            lines.append(f"{g.path}: {g.status} ({g.seconds:.0f} s)")
            lines += [f"    {result}" for result in g.results.values()
                      if _short(result) != result]
        lines.append("")
    passed = sum(r == PASSED for g in grades for r in g.results.values())
    total = sum(len(g.results) for g in grades)
    lines.append(f"{passed} of {total} exercises passed in {len(grades)} notebook(s)")
    return "\n".join(lines)


def write_csv(grades, path):
    """One row per (notebook, exercise): notebook, exercise, result, notebook status."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["notebook", "exercise", "result", "notebook_status"])
        for grade in grades:
            if not grade.results:
                writer.writerow([grade.path, "", "", grade.status])
            for name, result in grade.results.items():
                writer.writerow([grade.path, name, result, grade.status])


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m nnlib.grade",
        description="Run notebooks in fresh kernels and report each exercise's check.")
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds each notebook may run (default 300)")
    parser.add_argument("--csv", type=Path, help="also write the results to this CSV file")
    parser.add_argument("--execute-one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.timeout <= 0:
        parser.error(f"--timeout must be a positive number of seconds, got {args.timeout:g}")
    if args.execute_one:
        _execute_one(args.notebooks[0].resolve(), args.timeout)
        return 0

    def progress(grade):
        print(f"graded {grade.path}: {grade.status} ({grade.seconds:.0f} s)", file=sys.stderr)

    grades = grade_notebooks(args.notebooks, timeout=args.timeout, progress=progress)
    print(format_table(grades))
    if args.csv:
        write_csv(grades, args.csv)
        print(f"wrote {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
