"""Run every notebook in JupyterLab in a real browser and move its widgets like a learner would.

    make browser                                   # every notebook
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
Screenshots go to artifacts/browser/ (git-ignored). The server is stopped by its
process group, whatever happens.

This is not yet part of ``make test`` (see issue 9): it needs chromium.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "artifacts" / "browser"
TOKEN = "course-browser-check"
VIEW = ".widget-vbox:has(> img.widget-image)"
COUNT_FRAMES = """(el) => { window.__frames = 0; new MutationObserver(() => window.__frames++)
    .observe(el, {attributes: true, attributeFilter: ['src']}); }"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(root, port, config_dir):
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


def check_notebook(page, port, name):
    """Run one notebook and exercise its views; returns a list of problems (empty = fine)."""
    problems = []
    page.goto(f"http://127.0.0.1:{port}/lab/tree/{name}?reset&token={TOKEN}")
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
        if sliders.count():
            handle = sliders.first
            at_max = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
            handle.focus()
            for _ in range(2):  # two key presses, as a person nudging the slider
                page.keyboard.press("ArrowLeft" if at_max else "ArrowRight")
            what = "slider"
        elif menus.count():
            options = menus.first.locator("option").all_inner_texts()
            menus.first.select_option(label=options[-1])
            what = "menu"
        else:
            continue  # a progress display, not a live view
        try:
            wait_for_new_image(page, image, before)
            print(f"  view {i}: {what} changed the image in "
                  f"{(time.perf_counter() - start) * 1000:.0f} ms")
        except Exception:
            problems.append(f"view {i}: moving its {what} did not change the image")
        play = view.locator(".widget-play button")
        if play.count():
            page.evaluate(COUNT_FRAMES, image.element_handle())
            play.first.click()
            time.sleep(3)
            frames = page.evaluate("window.__frames")
            play.nth(1).click()  # pause
            print(f"  view {i}: playing gave {frames / 3:.1f} frames per second")
            if frames == 0:
                problems.append(f"view {i}: play did not animate the view")
        page.screenshot(path=str(SHOTS / f"{Path(name).stem}_view{i}.png"))
    if page.locator("text=Error displaying widget").count():
        problems.append("a widget failed to display")
    errors = page.locator("[data-mime-type='application/vnd.jupyter.stderr']").count()
    if errors:
        problems.append(f"{errors} outputs on stderr (tracebacks or warnings)")
    return problems


def main(names):
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("chromium not found: install Debian's chromium (apt-get install chromium)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    names = names or sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    failures = {}
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "notebooks"
        shutil.copytree(ROOT / "notebooks", copy)
        port = free_port()
        server = start_server(copy, port, Path(tmp) / "config")
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium, headless=True,
                                            args=["--no-sandbox", "--disable-gpu"])
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.on("dialog", lambda dialog: dialog.accept())
                for name in names:
                    print(name)
                    problems = check_notebook(page, port, name)
                    for problem in problems:
                        print(f"  FAIL {problem}")
                    if problems:
                        failures[name] = problems
                browser.close()
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    print(f"{len(names) - len(failures)} of {len(names)} notebooks passed; "
          f"screenshots in {SHOTS.relative_to(ROOT)}/")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
