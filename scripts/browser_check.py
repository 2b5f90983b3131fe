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

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "artifacts" / "browser"
TOKEN = "course-browser-check"
VIEW = ".widget-vbox:has(> img.widget-image)"
PRESSES = 5  # single key presses timed per view
# Browsers (each with its own kernel) running notebooks side by side. Two on two cores
# halve the suite's time; the latencies it prints are then those of a busy machine.
# BROWSER_JOBS=1 gives the quiet figures, one notebook at a time.
JOBS = int(os.environ.get("BROWSER_JOBS", "2"))
COUNT_FRAMES = """(el) => { window.__frames = 0; new MutationObserver(() => window.__frames++)
    .observe(el, {attributes: true, attributeFilter: ['src']}); }"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(root, port, config_dir, single_thread=False):
    settings = Path(config_dir) / "lab" / "user-settings" / "@jupyterlab"
    (settings / "notebook-extension").mkdir(parents=True)
    (settings / "notebook-extension" / "tracker.jupyterlab-settings").write_text(
        '{"autoStartDefaultKernel": true}')
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
    time.sleep(2)
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    page.wait_for_function(
        """() => { const ps = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];
                   return ps.length > 0 && ps.every(p => /\\[\\d+\\]/.test(p.textContent)); }""",
        timeout=180000)
    time.sleep(1)
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


def run_browser(chromium, port, queue, latencies, failures, lock, workspace):
    """One headless Chromium that takes notebooks from ``queue`` until it is empty."""
    from playwright.sync_api import sync_playwright

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
                problems = check_notebook(page, port, name, latencies, lines.append, workspace)
            except Exception as error:  # a timeout in one notebook must not stop the others
                problems = [f"{type(error).__name__}: {str(error).splitlines()[0]}"]
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
                                                                  failures, lock, f"check{k}"))
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
