# mildpath: the README's two commands are `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
UV := $(shell command -v uv 2>/dev/null)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint typecheck bench clean i18n

$(VENV)/.installed: pyproject.toml uv.lock
	@if [ -z "$(UV)" ]; then echo "installing uv (pip --user)"; python3 -m pip install --quiet --user uv; fi
	@UV_BIN=$$(command -v uv || echo $$HOME/.local/bin/uv); \
	  $$UV_BIN sync --frozen --compile-bytecode --all-extras --group dev --python 3.11 || $$UV_BIN sync --frozen --compile-bytecode --all-extras --group dev
	@touch $@

install: $(VENV)/.installed ## create .venv and install mildpath with everything its tests need

run: install ## migrate, load the demo clinic, serve on http://127.0.0.1:8000
	$(VENV)/bin/mildpath db upgrade
	$(VENV)/bin/mildpath demo
	@echo "mildpath: open http://$(HOST):$(PORT) (demo logins above)"
	$(VENV)/bin/mildpath serve --host $(HOST) --port $(PORT) --no-migrate

lint: install
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/lint-imports

typecheck: install
	$(VENV)/bin/mypy src/mildpath

test: install lint typecheck ## lint, type checks, then every test (SQLite, and PostgreSQL when MILDPATH_TEST_POSTGRES_URL is set)
	$(VENV)/bin/pytest -q -p no:cacheprovider --durations=25

bench: install ## benchmarks; results in benchmarks/results/
	$(VENV)/bin/python benchmarks/run_all.py

i18n: install ## extract the interface strings (babel.cfg) and update the catalogues in src/mildpath/locale
	$(VENV)/bin/pybabel extract -F babel.cfg -k N_ --no-location --sort-output --project mildpath \
	  -o src/mildpath/locale/messages.pot .
	$(VENV)/bin/pybabel update -i src/mildpath/locale/messages.pot -d src/mildpath/locale \
	  --ignore-obsolete --no-fuzzy-matching --no-wrap

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
