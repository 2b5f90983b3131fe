"""``python -m nnlib.grade``: it reports the course's own notebooks as not attempted, the
same notebooks with the published solutions as passed, a planted mistake with its own
diagnosis, and it goes on grading when a notebook raises, runs forever or deletes files."""

import csv
import importlib
import json
import pkgutil
import textwrap

import pytest
from helpers import REPO, load_solutions, solved_notebook

import nnlib.exercises
from nnlib.exercises import GRADE_LOG, neurons
from nnlib.grade import (
    NOT_ATTEMPTED,
    NOT_RUN,
    PASSED,
    expected_exercises,
    format_table,
    grade_notebooks,
    main,
)

NOTEBOOKS = REPO / "notebooks"
FAST = ["01_neurons.ipynb", "03_losses.ipynb"]  # two quick notebooks stand for the course


def names(module):
    return [exercise.name for exercise in module.EXERCISES.values()]


def test_the_course_notebooks_unsolved_are_not_attempted():
    grades = grade_notebooks([NOTEBOOKS / name for name in FAST], timeout=120)
    for grade in grades:
        assert grade.status == "ran", grade.status
        assert len(grade.results) >= 3
        assert set(grade.results.values()) == {NOT_ATTEMPTED}, grade.results


def test_solved_notebooks_pass_and_a_planted_mistake_shows_its_diagnosis(tmp_path):
    solved = [solved_notebook(NOTEBOOKS / name, tmp_path / f"solved_{name}") for name in FAST]
    planted = solved_notebook(NOTEBOOKS / FAST[0], tmp_path / "planted.ipynb", wrong={
        "my_weighted_sum": "import numpy as np\n\ndef my_weighted_sum(x, w, b):\n"
                           "    return x @ w\n"})
    grades = grade_notebooks([*solved, planted], timeout=120)
    for grade in grades[:-1]:
        assert grade.status == "ran" and set(grade.results.values()) == {PASSED}, grade.results
    mistake = grades[-1].results["weighted_sum"]
    # the very diagnosis the learner's check cell printed
    assert mistake == neurons.weighted_sum.check(lambda x, w, b: x @ w).message
    assert mistake.startswith("✘ weighted_sum") and "bias" in mistake, mistake
    others = {k: v for k, v in grades[-1].results.items() if k != "weighted_sum"}
    assert set(others.values()) == {PASSED}
    table = format_table(grades)
    assert "planted.ipynb" in table and mistake in table


def notebook(path, *sources):
    cells = [{"cell_type": "code", "execution_count": None, "id": f"c{k}", "metadata": {},
              "outputs": [], "source": textwrap.dedent(s)} for k, s in enumerate(sources)]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}))
    return path


SOLVED_WEIGHTED_SUM = """
    from nnlib.exercises import neurons as exercises
    def my_weighted_sum(x, w, b):
        return x @ w + b
    """


def test_a_notebook_that_raises_loops_or_deletes_files_does_not_stop_the_others(tmp_path):
    class_dir = tmp_path / "class"
    class_dir.mkdir()
    raises = notebook(class_dir / "raises.ipynb", SOLVED_WEIGHTED_SUM, "1 / 0",
                      "exercises.weighted_sum.check(my_weighted_sum)")
    loops = notebook(class_dir / "loops.ipynb", SOLVED_WEIGHTED_SUM,
                     "exercises.weighted_sum.check(my_weighted_sum)", "while True:\n    pass")
    deletes = notebook(class_dir / "deletes.ipynb", f"""
        import pathlib, shutil
        for p in pathlib.Path({str(class_dir)!r}).glob("*.ipynb"):
            p.unlink()
        shutil.rmtree(pathlib.Path.cwd())
        """)
    fine = notebook(class_dir / "fine.ipynb", SOLVED_WEIGHTED_SUM,
                    "exercises.weighted_sum.check(my_weighted_sum)")
    grades = grade_notebooks([raises, loops, deletes, fine], timeout=20)
    by_name = {g.path.rsplit("/", 1)[1]: g for g in grades}
    assert by_name["raises.ipynb"].status.startswith("ran with 1 cell error (first: code cell 1, "
                                                      "ZeroDivisionError")
    assert by_name["raises.ipynb"].results["weighted_sum"] == PASSED  # the cells after it ran
    assert by_name["loops.ipynb"].status == "timed out after 20 s"
    assert by_name["loops.ipynb"].results["weighted_sum"] == PASSED  # checked before the loop
    assert by_name["loops.ipynb"].results["perceptron_step"] == NOT_RUN
    assert by_name["deletes.ipynb"].status.startswith("ran")
    assert by_name["fine.ipynb"].status == "ran"
    assert by_name["fine.ipynb"].results["weighted_sum"] == PASSED


def test_command_line_table_and_csv(tmp_path, capsys):
    nb = notebook(tmp_path / "mine.ipynb", SOLVED_WEIGHTED_SUM,
                  "exercises.weighted_sum.check(my_weighted_sum)")
    assert main([str(nb), str(tmp_path / "missing.ipynb"), "--csv", str(tmp_path / "r.csv"),
                 "--timeout", "60"]) == 0
    out = capsys.readouterr().out
    assert "weighted_sum" in out and "passed" in out and "could not run: no such file" in out
    rows = list(csv.DictReader((tmp_path / "r.csv").open()))
    assert {"notebook", "exercise", "result", "notebook_status"} == set(rows[0])
    mine = {r["exercise"]: r["result"] for r in rows if r["notebook"].endswith("mine.ipynb")}
    assert mine == {n: (PASSED if n == "weighted_sum" else NOT_RUN) for n in names(neurons)}


def test_bad_timeout_is_refused(capsys):
    with pytest.raises(SystemExit):
        main(["x.ipynb", "--timeout", "0"])
    assert "--timeout must be a positive number" in capsys.readouterr().err


def test_expected_exercises_come_from_the_imported_modules():
    for path in sorted(NOTEBOOKS.glob("[01][0-9]_*.ipynb")):
        topics, expected = expected_exercises(path)
        if path.name.startswith("00"):
            continue
        assert topics, path.name
        module = importlib.import_module(f"nnlib.exercises.{topics[0]}")
        assert expected[:len(module.EXERCISES)] == names(module)


MODULES = [importlib.import_module(f"nnlib.exercises.{m.name}")
           for m in pkgutil.iter_modules(nnlib.exercises.__path__)]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[1])
def test_every_checker_writes_its_result_to_the_grader_log(module, tmp_path, monkeypatch):
    log = tmp_path / "log"
    monkeypatch.setenv(GRADE_LOG, str(log))
    solutions = load_solutions(module)
    for key, exercise in module.EXERCISES.items():
        exercise.check(getattr(solutions, key))
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["exercise"] for r in records] == names(module)
    assert all(r["passed"] for r in records)
