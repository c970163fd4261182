# Two commands for a newcomer: `make demo` and `make test`. Each one creates
# .venv and installs the pinned dependencies first if needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint generate bench stop clean lock

# Installed from requirements.lock (every package pinned), then the project itself.
$(BIN)/.installed: pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Python 3.11 or newer is needed (found $$($(PYTHON) --version))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	$(BIN)/pip check --disable-pip-version-check
	@touch $@

lock:  ## re-resolve requirements.lock from pyproject.toml's ranges (newest allowed)
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet --disable-pip-version-check -e '.[all,dev,bench]'
	{ echo "# Every package make and CI install, pinned: re-resolved from pyproject.toml's ranges"; \
	  echo "# by 'make lock'. .ci/check-lock holds it to those ranges and lower bounds."; \
	  .venv-lock/bin/pip freeze --exclude-editable; } > requirements.lock
	rm -rf .venv-lock

demo: $(BIN)/.installed  ## start the database, migrate, seed dev data, print health
	$(BIN)/dal demo

test: $(BIN)/.installed  ## the whole test suite against a real PostgreSQL
	$(BIN)/pytest -q

lint: $(BIN)/.installed  ## squawk, ruff, mypy --strict, layers, public psycopg API, fresh sync code
	.ci/lint-migrations
	$(BIN)/python .ci/check-lock
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python .ci/check_code.py
	$(BIN)/python .ci/async_to_sync.py --check

generate: $(BIN)/.installed  ## write the sync modules of dal/ from their async source in dal/aio/
	$(BIN)/python .ci/async_to_sync.py

bench: $(BIN)/.installed  ## benchmarks and plan checks; writes benchmarks/REPORT.md
	$(BIN)/dal bench

stop:  ## stop the embedded PostgreSQL if it was left running
	$(BIN)/dal server stop

clean:  ## remove the virtualenv and the embedded database
	-$(BIN)/dal server stop
	rm -rf $(VENV) .pgdata
