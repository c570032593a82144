# make demo  - install, index the bundled public-domain sample (demo/) offline, and serve it on http://127.0.0.1:8000
# make run   - install into .venv (if needed) and serve http://127.0.0.1:8000
# make test  - install (Python packages and the Debian packages the browser tests need), lint, run the whole suite
# make lint  - ruff (rules in pyproject.toml)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install system-deps demo run lint test bench clean

$(STAMP): requirements.txt constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt -c constraints.txt
	$(PY) -m pip install -q --no-deps insightface==2.1
	touch $(STAMP)

install: $(STAMP)

# Debian chromium for the Playwright browser tests (launched by path; Playwright downloads no browser) and a CJK
# font for Korean text.
system-deps:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "noto.*cjk"; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

DEMO_CONFIG := demo/config.json

demo: install
	$(PY) -m indexer index demo/media --config $(DEMO_CONFIG)
	@echo "Open http://127.0.0.1:8000 and search, e.g. \"a whale of an island\", \"고래 섬\" or \"what you can do for your country\" (Ctrl-C stops)."
	$(PY) app.py --config $(DEMO_CONFIG)

run: install
	$(PY) app.py

lint: install
	$(PY) -m ruff check .

test: install system-deps lint
	$(PY) -m pytest

bench: install
	$(PY) bench/search_bench.py
	$(PY) bench/index_bench.py
	$(PY) bench/editor_bench.py
	$(PY) bench/highlights_bench.py

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts .demo-data
