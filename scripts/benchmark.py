"""The course's speed table: every notebook, every live view, the numpy kernels.

    make bench                  # notebooks, then live views, then numpy kernels vs torch
    python scripts/benchmark.py --views     # live views only
    python scripts/benchmark.py --kernels   # numpy kernels vs torch only

Notebooks: each runs in a fresh kernel with the machine's default threads, as a learner's
Jupyter runs it (`make execute` and CI's nbval run one thread, and 07 then takes about a
third longer); one row per notebook with the wall seconds (kernel start to last cell) and
the kernel's peak resident memory, against the budget a learner should feel: 30 s and
1 GB on a 2-core laptop. Views: every registered live view (``nnlib.views.VIEWS``) is
rendered headless over a sweep of its controls' extremes (median and 95th
percentile against the 100 ms budget), every animated trainer plays a few dozen
ticks (updates per second against the budget of 10), and the browser's own
measurement from the last ``make browser`` run is printed beside them: the first
key press on each view right after Run All (budget 250 ms) and the median of the
later presses (100 ms), from key press to new pixels in JupyterLab. Kernels: the
numpy kernels that the course promises close to torch's speed run forward+backward
beside torch's CPU float64 versions (and the loop versions a textbook would write)
on the same arrays, each timed in blocks of consecutive runs (numpy's BLAS threads
keep spinning after a call and slow torch when the two alternate call by call), with
every thread (judged) and again in a process with one thread (printed beside).

Exits 1 if anything fails or misses a budget. This is where budgets are judged; the
test suite fails only on gross regressions (a view over 4 times its budget in the
browser), because a shared machine is noisy.
"""

import sys
from pathlib import Path

from notebook_runner import execute_notebook
from tables import print_table

ROOT = Path(__file__).resolve().parents[1]
MAX_SECONDS = 30.0
MAX_MEMORY_MB = 1024.0
MAX_VIEW_MS = 100.0
MIN_UPDATES_PER_SECOND = 10.0
MAX_KERNEL_RATIO = {"conv2d": 2.0, "maxpool2d": 2.0, "lstm": 1.5, "attention": 2}


def bench_views(repeats=3):
    """Median and p95 redraw time of every registered view over its sweep."""
    import numpy as np

    from nnlib.views import VIEWS, load_view

    rows, ok = [], True
    for name in VIEWS:
        view = load_view(name)
        times, errors = [], 0
        for _ in range(repeats):
            for settings in view.sweep():
                view.render(**settings)
                times.append(view.last_seconds * 1000)
                errors += view.message.startswith("Could not draw")
        median, p95 = np.median(times), np.percentile(times, 95)
        within = median <= MAX_VIEW_MS and not errors
        ok &= within
        rows.append((name, len(times), f"{median:.0f}", f"{p95:.0f}", errors,
                     "pass" if within else "OVER"))
    print_table(("live view", "renders", "median ms", "p95 ms", "errors",
                 f"budget (median <= {MAX_VIEW_MS:.0f} ms)"), rows)
    print()
    ok = bench_trainers() and ok
    print()
    return print_browser_latencies() and ok


def print_browser_latencies():
    """The last ``make browser`` run's first-touch and later-press times, if there is one."""
    import json

    sys.path.insert(0, str(ROOT / "scripts"))
    from browser_check import FIRST_TOUCH_MS, LATENCIES, LATENCY_HEADER, LATER_MS, latency_rows

    if not LATENCIES.exists():
        print(f"no browser measurements yet: `make browser` writes {LATENCIES.name} "
              f"in {LATENCIES.parent}")
        return True
    saved = json.loads(LATENCIES.read_text())
    latencies = [tuple(row) for row in saved["latencies"]]
    print(f"in JupyterLab, headless Chromium (the last `make browser`, {saved['measured']}):")
    print_table(LATENCY_HEADER, latency_rows(latencies))
    within = all((first is None or first <= FIRST_TOUCH_MS) and (later is None or later <= LATER_MS)
                 for _, _, first, later, _ in latencies)
    print("budgets: " + ("pass" if within else "OVER (marked above)"))
    return within


def bench_trainers(ticks=40):
    """Updates per second of every animated trainer: one tick = a training step and a redraw.

    Each trainer plays ``ticks`` ticks from its default settings and again from
    its sweep's all-maximum setting (the biggest network, the strongest
    regularization), as "play" would in the browser.
    """
    import numpy as np

    from nnlib.display.widgets import TrainerView
    from nnlib.views import VIEWS, load_view

    rows, ok = [], True
    for name in VIEWS:
        view = load_view(name)
        if not isinstance(view, TrainerView):
            continue
        for label, settings in (("default", view.values()), ("all max", view.sweep()[-1])):
            view.render(**settings)
            times, errors = [], 0
            for _ in range(ticks):
                view.advance(**settings)
                times.append(view.last_seconds * 1000)
                errors += view.message.startswith("Could not draw")
            median, p95 = np.median(times), np.percentile(times, 95)
            rate = 1000 / median
            within = rate >= MIN_UPDATES_PER_SECOND and not errors
            ok &= within
            rows.append((f"{name} ({label})", ticks, f"{median:.0f}", f"{p95:.0f}",
                         f"{rate:.1f}", errors, "pass" if within else "UNDER"))
    if rows:
        print_table(("trainer", "ticks", "median ms", "p95 ms", "updates/s", "errors",
                     f"budget (>= {MIN_UPDATES_PER_SECOND:.0f} updates/s)"), rows)
    return ok


def kernel_cases():
    """name -> (shape, numpy fwd+bwd, loop fwd+bwd or None, torch fwd+bwd), on the same arrays."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    from nnlib import attention, conv_loops, layers, rnn

    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((64, 1, 28, 28)), rng.standard_normal((8, 1, 3, 3)), \
        rng.standard_normal(8)
    dconv = rng.standard_normal((64, 8, 28, 28))
    xp, dpool = rng.standard_normal((64, 8, 28, 28)), rng.standard_normal((64, 8, 14, 14))

    def numpy_conv():
        _, cache = layers.conv2d_forward(x, w, b, padding=1)
        layers.conv2d_backward(dconv, cache)

    def loop_conv():
        _, cache = conv_loops.conv2d_forward_loops(x, w, b, padding=1)
        conv_loops.conv2d_backward_loops(dconv, cache)

    def torch_conv():
        xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
        F.conv2d(xt, wt, bt, padding=1).backward(torch.tensor(dconv))

    def numpy_pool():
        _, cache = layers.maxpool2d_forward(xp, 2)
        layers.maxpool2d_backward(dpool, cache)

    def loop_pool():
        _, cache = conv_loops.maxpool2d_forward_loops(xp, 2)
        conv_loops.maxpool2d_backward_loops(dpool, cache)

    def torch_pool():
        xt = torch.tensor(xp, requires_grad=True)
        F.max_pool2d(xt, 2).backward(torch.tensor(dpool))

    B, T, D, H = 32, 50, 32, 128
    xs, h0, c0 = (rng.standard_normal(s) for s in ((B, T, D), (B, H), (B, H)))
    w_ih, w_hh = rng.standard_normal((D, 4 * H)) * 0.1, rng.standard_normal((H, 4 * H)) * 0.1
    b_lstm, dhs = rng.standard_normal(4 * H) * 0.1, rng.standard_normal((B, T, H))
    lstm = torch.nn.LSTM(D, H, batch_first=True).double()
    with torch.no_grad():  # the same weights on both sides
        lstm.weight_ih_l0.copy_(torch.tensor(w_ih.T))
        lstm.weight_hh_l0.copy_(torch.tensor(w_hh.T))
        lstm.bias_ih_l0.copy_(torch.tensor(b_lstm))
        lstm.bias_hh_l0.zero_()

    def numpy_lstm():
        _, cache = rnn.lstm_forward(xs, h0, c0, w_ih, w_hh, b_lstm)
        rnn.lstm_backward(dhs, cache)

    def torch_lstm():
        xt, ht, ct = (torch.tensor(a, requires_grad=True) for a in (xs, h0[None], c0[None]))
        lstm(xt, (ht, ct))[0].backward(torch.tensor(dhs))

    Ba, h, Ta, d = 16, 4, 64, 32
    q, k, v, dattn = (rng.standard_normal((Ba, h, Ta, d)) for _ in range(4))
    causal = attention.causal_mask(Ta)

    def numpy_attention():
        _, cache = attention.scaled_dot_product_attention_forward(q, k, v, causal)
        attention.scaled_dot_product_attention_backward(dattn, cache)

    def torch_attention():
        qt, kt, vt = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
        F.scaled_dot_product_attention(qt, kt, vt, attn_mask=torch.tensor(causal)).backward(
            torch.tensor(dattn))

    return {
        "conv2d": ("64x1x28x28, 8 3x3 filters, pad 1", numpy_conv, loop_conv, torch_conv),
        "maxpool2d": ("64x8x28x28, 2x2", numpy_pool, loop_pool, torch_pool),
        "lstm": (f"B={B} T={T} D={D} H={H}", numpy_lstm, None, torch_lstm),
        "attention": (f"B={Ba} h={h} T={Ta} d={d}, causal", numpy_attention, None,
                      torch_attention),
    }


def kernel_medians(blocks=6, per_block=5):
    """name -> (shape, [median ms of numpy, (loops,) torch]), forward+backward.

    Timed in blocks: ``per_block`` consecutive runs of one function, then a block of the
    next, ``blocks`` times round, so that a busy machine slows them alike without one
    library's threads disturbing the other's calls (numpy's BLAS threads spin for a
    while after each call). Copying the arrays into torch tensors is counted on torch's
    side, as the numpy side gets its arrays as they are (a few percent of torch's time).
    """
    import time

    import numpy as np

    medians = {}
    for name, (shape, *functions) in kernel_cases().items():
        functions = [f for f in functions if f is not None]  # not every kernel has loops
        times = [[] for _ in functions]
        for f in functions:
            f()  # warm-up: first-call allocations, torch's kernel selection
        for _ in range(blocks):
            for f, ts in zip(functions, times):
                for _ in range(per_block):
                    start = time.perf_counter()
                    f()
                    ts.append(time.perf_counter() - start)
        medians[name] = (shape, [1000 * float(np.median(ts)) for ts in times])
    return medians


def one_thread_medians():
    """``kernel_medians`` in a fresh process with one thread for BLAS, OpenMP and torch."""
    import json
    import os
    import subprocess

    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1")
    out = subprocess.run([sys.executable, __file__, "--kernel-medians"], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.splitlines()[-1])


def bench_kernels():
    """The numpy kernels against torch's, with every thread and with one.

    The budget is judged with every thread, as a learner runs them. With one thread the
    numpy kernels come closer: torch spreads a batch over the cores where numpy's
    batched matmul calls BLAS matrix by matrix, too small to split (attention: 1.7-1.8
    on two cores against 0.9 on one).
    """
    one = one_thread_medians()
    rows, ok = [], True
    for name, (shape, medians) in kernel_medians().items():
        numpy_ms, torch_ms = medians[0], medians[-1]
        loops = (f"{medians[1]:.1f}", f"{medians[1] / torch_ms:.1f}") if len(medians) == 3 \
            else ("-", "-")
        ratio = numpy_ms / torch_ms
        within = ratio <= MAX_KERNEL_RATIO[name]
        ok &= within
        one_ratio = one[name][1][0] / one[name][1][-1]
        rows.append((name, shape, f"{numpy_ms:.2f}", f"{torch_ms:.2f}", f"{ratio:.2f}",
                     f"{one_ratio:.2f}", *loops,
                     f"<= {MAX_KERNEL_RATIO[name]:g}: " + ("pass" if within else "SLOW")))
    print_table(("kernel (fwd+bwd, float64)", "shape", "numpy ms", "torch ms", "numpy/torch",
                 "1 thread", "loops ms", "loops/torch", "budget numpy/torch"), rows)
    return ok


def main(paths):
    if paths == ["--views"]:
        return 0 if bench_views() else 1
    if paths == ["--kernels"]:
        return 0 if bench_kernels() else 1
    if paths == ["--kernel-medians"]:  # for one_thread_medians, in its own process
        import json

        print(json.dumps(kernel_medians()))
        return 0
    paths = paths or sorted(str(p) for p in Path("notebooks").glob("*.ipynb"))
    rows, ok = [], True
    for path in paths:
        try:
            _, seconds, peak_mb = execute_notebook(path)
        except Exception as error:  # report and carry on with the others
            rows.append((Path(path).name, "-", "-", f"FAIL ({type(error).__name__})"))
            ok = False
            continue
        within = seconds <= MAX_SECONDS and (peak_mb is None or peak_mb <= MAX_MEMORY_MB)
        ok &= within
        memory = f"{peak_mb:.0f}" if peak_mb is not None else "n/a"
        rows.append((Path(path).name, f"{seconds:.1f}", memory, "pass" if within else "OVER"))

    print_table(("notebook", "wall s", "peak MB", f"budget (<= {MAX_SECONDS:.0f} s, "
                 f"<= {MAX_MEMORY_MB:.0f} MB)"), rows)
    print()
    ok &= bench_views()
    print()
    ok &= bench_kernels()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
