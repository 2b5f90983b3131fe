"""Run every notebook in JupyterLab in a real browser and move its widgets like a learner would.

    make browser                                   # every notebook, two at a time
    BROWSER_JOBS=1 make browser                    # one at a time: quiet latencies
    python scripts/browser_check.py 06_regularization.ipynb

Starts JupyterLab on 127.0.0.1 with a token, over a *copy* of notebooks/ (so that
JupyterLab's autosave never rewrites the saved outputs), opens each notebook in
headless Chromium (Debian's ``chromium``, driven by playwright; never
``playwright install``), runs all cells and waits for the last one. Then, for
every live view (a widget box holding an image), it moves the first slider with
the keyboard or picks another option of the first menu, and checks that the
image changed; for a trainer it presses play, counts the frames for three
seconds and presses pause. It fails on "Error displaying widget", on any
traceback or stderr output, and on a control that does not change its view.

It also measures what a learner feels: for each view, the time from a key press
on the slider to the new image in the page (the kernel's update and draw, the
trip through the websocket, and the browser's decoding), over several single
presses, and prints a table with the median next to the headless budget.
Screenshots go to artifacts/browser/ (git-ignored). The server is stopped by its
process group, whatever happens. Two browsers, each with its own JupyterLab
workspace and kernel (one BLAS thread each), take notebooks from one queue, so
the suite takes about half as long as running the notebooks one after another.

``make test`` runs it on every notebook (``make browser`` alone too): adding a
notebook adds its case, nothing to register.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from queue import Empty, Queue

from playwright.sync_api import TimeoutError as PlaywrightTimeout

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "artifacts" / "browser"
TOKEN = "course-browser-check"
VIEW = ".widget-vbox:has(> img.widget-image)"
PRESSES = 5  # single key presses timed per view
# Browsers (each with its own kernel) running notebooks side by side. Two on two cores
# take about two thirds of the time of one; the latencies it prints are then those of a
# busy machine. BROWSER_JOBS=1 gives the quiet figures, one notebook at a time.
JOBS = int(os.environ.get("BROWSER_JOBS", "2"))
COUNT_FRAMES = """(el) => { window.__frames = 0; new MutationObserver(() => window.__frames++)
    .observe(el, {attributes: true, attributeFilter: ['src']}); }"""
KERNEL_IDLE = ".jp-Notebook-ExecutionIndicator[data-status='idle']"
# The state of a run, given the notebook's number of code cells: "done" when every code
# cell shows an execution count and the kernel is idle; "lost" when the kernel is idle but
# some cell has not run; "running" otherwise. (JupyterLab renders every cell: the settings
# written by start_server turn its windowing off.)
RUN_STATE = """(n) => {
    const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
        .map(p => p.textContent);
    const idle = document.querySelector(
        ".jp-Notebook-ExecutionIndicator[data-status='idle']") !== null;
    if (!idle || prompts.length < n || prompts.some(p => p.includes('*'))) return 'running';
    return prompts.every(p => /\\[\\d+\\]/.test(p)) ? 'done' : 'lost';
}"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(root, port, config_dir, single_thread=False):
    settings = Path(config_dir) / "lab" / "user-settings" / "@jupyterlab"
    (settings / "notebook-extension").mkdir(parents=True)
    (settings / "notebook-extension" / "tracker.jupyterlab-settings").write_text(
        '{"autoStartDefaultKernel": true, "windowingMode": "none"}')
    (settings / "application-extension").mkdir(parents=True)
    (settings / "apputils-extension").mkdir(parents=True)
    (settings / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false", "checkForUpdates": false}')
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config_dir),
               JUPYTERLAB_SETTINGS_DIR=str(Path(config_dir) / "lab" / "user-settings"))
    if single_thread:  # kernels side by side: one BLAS/OpenMP thread each, as in make notebooks
        env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}",
               "--ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}",
               f"--ServerApp.root_dir={root}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log = open(Path(config_dir) / "server.log", "w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    for _ in range(120):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={TOKEN}")
            return server
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("JupyterLab did not start within 60 s")


def stop_kernel(port, name):
    """Shut down the kernel of notebook ``name`` (its session), through the server's REST API."""
    api = f"http://127.0.0.1:{port}/api/sessions"
    with urllib.request.urlopen(f"{api}?token={TOKEN}") as response:
        sessions = json.load(response)
    for session in sessions:
        if session["path"].endswith(name):
            request = urllib.request.Request(f"{api}/{session['id']}?token={TOKEN}",
                                             method="DELETE")
            urllib.request.urlopen(request).close()


def wait_for_new_image(page, image, before, timeout=15000):
    page.wait_for_function("([el, s]) => el.getAttribute('src') !== s",
                           arg=[image.element_handle(), before], timeout=timeout)


def timed_presses(page, handle, image, key, presses=PRESSES):
    """Milliseconds from each single key press on a slider to the new image in the page.

    The presses alternate between ``key`` and the opposite direction, so that the
    slider never runs into its end (where a press changes nothing).
    """
    back = {"ArrowRight": "ArrowLeft", "ArrowLeft": "ArrowRight"}
    times = []
    for n in range(presses):
        before = image.get_attribute("src")
        handle.focus()
        start = time.perf_counter()
        page.keyboard.press(key if n % 2 == 0 else back[key])
        wait_for_new_image(page, image, before)
        times.append((time.perf_counter() - start) * 1000)
    return times


def menu(page, name, item):
    page.locator(".lm-MenuBar-itemLabel", has_text=name).first.click()
    page.locator(".lm-Menu-itemLabel", has_text=item).first.click()


def run_all(page, n_code, log, attempts=3, timeout=180):
    """Clear the saved outputs, Run All Cells, and wait until every code cell has run.

    Clearing resets every execution count to "[ ]", so that a cell that has run is told
    from one that has not. A Run All can be lost (sent while the kernel's connection is
    settling, or cut off by a kernel restart), which leaves cells at "[ ]" with the kernel
    idle; then it is sent again, at most ``attempts`` times in all.
    """
    deadline = time.perf_counter() + timeout
    for attempt in range(1, attempts + 1):
        menu(page, "Edit", "Clear Outputs of All Cells")
        menu(page, "Run", "Run All Cells")
        time.sleep(1)
        lost_since = None
        while time.perf_counter() < deadline:
            state = page.evaluate(RUN_STATE, n_code)
            if state == "done":
                return
            if state == "lost":  # idle, with cells that never ran: give it 5 s to be sure
                lost_since = lost_since or time.perf_counter()
                if time.perf_counter() - lost_since > 5:
                    break
            else:
                lost_since = None
            time.sleep(0.5)
        else:
            raise PlaywrightTimeout(f"Run All did not finish within {timeout} s")
        log(f"  Run All stopped before the end (attempt {attempt}); sent again")
    raise PlaywrightTimeout(f"Run All was lost {attempts} times")


def check_notebook(page, port, name, latencies, log=print, workspace="default"):
    """Run one notebook and exercise its views; returns a list of problems (empty = fine).

    Appends ``(notebook, view, median ms, frames per second or None)`` to ``latencies``
    and reports each view through ``log``. Each browser gets its own JupyterLab
    ``workspace``, so that two of them never restore each other's tabs.
    """
    problems = []
    page.goto(f"http://127.0.0.1:{port}/lab/workspaces/{workspace}/tree/{name}"
              f"?reset&token={TOKEN}")
    page.wait_for_selector(".jp-Notebook:visible", timeout=60000)
    page.wait_for_selector(KERNEL_IDLE, state="attached", timeout=60000)  # kernel up
    n_code = sum(cell["cell_type"] == "code" for cell in
                 json.loads((ROOT / "notebooks" / name).read_text())["cells"])
    page.wait_for_function(f"() => document.querySelectorAll('.jp-CodeCell').length >= {n_code}",
                           timeout=60000)
    start = time.perf_counter()
    run_all(page, n_code, log)
    log(f"  ran all cells in {time.perf_counter() - start:.0f} s")
    views = page.locator(VIEW)
    for i in range(views.count()):
        view = views.nth(i)
        view.scroll_into_view_if_needed()
        image = view.locator("img.widget-image").first
        sliders, menus = view.locator(".noUi-handle"), view.locator("select")
        before, start = image.get_attribute("src"), time.perf_counter()
        median_ms, rate = None, None
        if sliders.count():
            handle = sliders.first
            low = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemin")
            # away from the nearer end, one press at a time, as a person nudging the slider
            key = "ArrowRight" if low else "ArrowLeft"
            what = "slider"
            try:
                times = timed_presses(page, handle, image, key)
                median_ms = sorted(times)[len(times) // 2]
                log(f"  view {i}: each slider step changed the image; median "
                    f"{median_ms:.0f} ms from key press to new image")
            except Exception:
                problems.append(f"view {i}: moving its slider did not change the image")
        elif menus.count():
            options = menus.first.locator("option").all_inner_texts()
            menus.first.select_option(label=options[-1])
            what = "menu"
            try:
                wait_for_new_image(page, image, before)
                median_ms = (time.perf_counter() - start) * 1000
                log(f"  view {i}: the menu changed the image in {median_ms:.0f} ms")
            except Exception:
                problems.append(f"view {i}: choosing another option of its {what} did not "
                                f"change the image")
        else:
            continue  # a progress display, not a live view
        play = view.locator(".widget-play button")
        if play.count():
            page.evaluate(COUNT_FRAMES, image.element_handle())
            play.first.click()
            time.sleep(3)
            frames = page.evaluate("window.__frames")
            play.nth(1).click()  # pause
            rate = frames / 3
            log(f"  view {i}: playing gave {rate:.1f} frames per second")
            if frames == 0:
                problems.append(f"view {i}: play did not animate the view")
        latencies.append((Path(name).stem, i, median_ms, rate))
        image.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / f"{Path(name).stem}_view{i}.png"))
    if page.locator("text=Error displaying widget").count():
        problems.append("a widget failed to display")
    errors = page.locator("[data-mime-type='application/vnd.jupyter.stderr']").count()
    if errors:
        problems.append(f"{errors} outputs on stderr (tracebacks or warnings)")
    return problems


def print_latencies(latencies):
    """What a learner feels, per view: key press (or menu choice) to new image, and play rate."""
    rows = [(nb, str(view), "-" if ms is None else f"{ms:.0f}",
             "-" if rate is None else f"{rate:.1f}") for nb, view, ms, rate in latencies]
    header = ("notebook", "view", "press to image, median ms", "frames/s when playing")
    widths = [max(len(r[k]) for r in [header, *rows]) for k in range(4)]
    print()
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)))
    print()


def run_browser(chromium, port, queue, latencies, failures, lock, workspace, delay=0.0):
    """One headless Chromium that takes notebooks from ``queue`` until it is empty.

    It starts after ``delay`` seconds, so that two kernels are not launched at the same
    moment (jupyter_client picks each kernel's ports by binding and releasing them, and
    two launches at once can collide). A notebook whose Run All times out is tried once
    more in a fresh page, and the retry is reported.
    """
    from playwright.sync_api import sync_playwright

    time.sleep(delay)

    with sync_playwright() as p:  # one playwright per thread: its API is not thread-safe
        browser = p.chromium.launch(executable_path=chromium, headless=True,
                                    args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("dialog", lambda dialog: dialog.accept())
        while True:
            try:
                name = queue.get_nowait()
            except Empty:
                break
            lines = []
            try:
                try:
                    problems = check_notebook(page, port, name, latencies, lines.append,
                                              workspace)
                except PlaywrightTimeout as error:
                    page.screenshot(path=str(SHOTS / f"{Path(name).stem}_retried.png"))
                    lines.append(f"  RETRY after a timeout ({str(error).splitlines()[0]}; "
                                 f"the page then: {SHOTS.name}/{Path(name).stem}_retried.png)")
                    page.close()
                    stop_kernel(port, name)
                    page = browser.new_page(viewport={"width": 1400, "height": 1000})
                    page.on("dialog", lambda dialog: dialog.accept())
                    problems = check_notebook(page, port, name, latencies, lines.append,
                                              workspace)
            except Exception as error:  # a timeout in one notebook must not stop the others
                problems = [f"{type(error).__name__}: {str(error).splitlines()[0]} (what the "
                            f"page showed: {SHOTS.name}/{Path(name).stem}_failed.png)"]
                page.screenshot(path=str(SHOTS / f"{Path(name).stem}_failed.png"))
            stop_kernel(port, name)  # its memory back before the next notebook
            with lock:  # one notebook's report in one piece
                print(name)
                for line in lines + [f"  FAIL {problem}" for problem in problems]:
                    print(line)
                if problems:
                    failures[name] = problems
        browser.close()


def main(names, jobs=JOBS):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("chromium not found: install Debian's chromium (apt-get install chromium)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    names = names or sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    failures, latencies, lock, queue = {}, [], threading.Lock(), Queue()
    for name in names:
        queue.put(name)
    jobs = max(1, min(jobs, len(names)))
    print(f"{len(names)} notebooks in {jobs} browser{'s' if jobs > 1 else ''} at a time")
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "notebooks"
        shutil.copytree(ROOT / "notebooks", copy)
        port = free_port()
        server = start_server(copy, port, Path(tmp) / "config", single_thread=jobs > 1)
        try:
            threads = [threading.Thread(target=run_browser, args=(chromium, port, queue, latencies,
                                                                  failures, lock, f"check{k}",
                                                                  5.0 * k))
                       for k in range(jobs)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    latencies.sort()
    print_latencies(latencies)
    checked = len(names) - queue.qsize()
    print(f"{checked - len(failures)} of {len(names)} notebooks passed; "
          f"screenshots in {SHOTS.relative_to(ROOT)}/")
    return 1 if failures or checked < len(names) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
