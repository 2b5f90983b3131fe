"""The speed table's plumbing (scripts/browser_check.py, scripts/benchmark.py): what the
browser measured reaches `make bench`, each value against its budget. The timings
themselves are judged by `make bench`, not here."""

import json

import pytest
from helpers import REPO, load_script

pytest.importorskip("playwright")


@pytest.fixture
def browser_check(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "scripts"))  # as when the scripts run
    module = load_script("browser_check")
    monkeypatch.setattr(module, "LATENCIES", tmp_path / "latencies.json")
    return module


def test_rows_mark_what_is_over_its_budget(browser_check):
    rows = browser_check.latency_rows([("02_activations", 0, 120.0, 40.0, None),
                                       ("11_gan", 1, 300.0, 150.0, 12.5),
                                       ("12_transformer", 2, 80.0, None, None)])
    assert rows[0] == ("02_activations", "0", "120", "40", "-")
    assert rows[1] == ("11_gan", "1", "300 (over)", "150 (over)", "12.5")
    assert rows[2][3] == "-"  # a menu: one timing, no later presses


def test_the_browser_table_is_saved_and_the_benchmark_prints_it(browser_check, capsys):
    latencies = [("02_activations", 0, 120.0, 40.0, None), ("10_gru", 3, 90.0, 130.0, None)]
    browser_check.print_latencies(latencies)
    saved = json.loads(browser_check.LATENCIES.read_text())
    assert [tuple(row) for row in saved["latencies"]] == latencies
    benchmark = load_script("benchmark")
    assert benchmark.print_browser_latencies() is False  # 130 ms is over the 100 ms budget
    out = capsys.readouterr().out
    assert "130 (over)" in out and "first touch ms (<= 250)" in out
    browser_check.LATENCIES.unlink()
    assert benchmark.print_browser_latencies() is True  # nothing measured yet is no failure
    assert "no browser measurements yet" in capsys.readouterr().out


def test_the_kernel_table_judges_every_thread_and_prints_one_thread_beside(monkeypatch, capsys):
    benchmark = load_script("benchmark")
    every = {"attention": ("shape", [5.0, 2.5]), "conv2d": ("shape", [3.0, 30.0, 2.0])}
    one = {"attention": ("shape", [5.0, 5.0]), "conv2d": ("shape", [3.0, 30.0, 3.0])}
    monkeypatch.setattr(benchmark, "kernel_medians", lambda: every)
    monkeypatch.setattr(benchmark, "one_thread_medians", lambda: one)
    assert benchmark.bench_kernels() is True  # 2.0 and 1.5, each within its budget of 2
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[2:]}
    assert rows["attention"][2:5] == ["5.00", "2.50", "2.00"] and rows["attention"][5] == "1.00"
    assert rows["conv2d"][4:8] == ["1.50", "1.00", "30.0", "15.0"]
    every["attention"] = ("shape", [5.5, 2.5])  # 2.2: over
    assert benchmark.bench_kernels() is False
