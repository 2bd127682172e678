# Two commands do all set-up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ARGS ?=

.PHONY: run test lint bench tills clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstall when pyproject.toml changes (new dependency or entry point).
$(VENV)/.installed-run: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[postgres]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test,postgres]'
	touch $@ $(VENV)/.installed-run

$(VENV)/.installed-bench: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test,bench,postgres]'
	touch $@ $(VENV)/.installed-run $(VENV)/.installed-test

run: $(VENV)/.installed-run
	$(PY) main.py $(ARGS)

# Lint, format and types first (seconds), then every test, headless.
lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: lint
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(ARGS)

bench: $(VENV)/.installed-bench
	QT_QPA_PLATFORM=offscreen $(PY) -m bench $(ARGS)

# Two tills side by side on a throw-away PostgreSQL (the tests' server wheel).
tills: $(VENV)/.installed-test
	$(PY) tools/tills.py $(ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
