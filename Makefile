# portwatch: every target sets itself up on a fresh machine with Python 3.11.
# `make demo` installs what the demonstration needs (portwatch and plotting); `make test`,
# `make bench` and `make lint` install the development tools as well. Each install runs
# once (again only when pyproject.toml changes) and shows pip's progress.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO_STAMP := $(VENV)/.installed-demo
DEV_STAMP  := $(VENV)/.installed-dev

.PHONY: demo test bench lint clean

$(DEMO_STAMP): pyproject.toml
	@echo "== installing portwatch and plotting into $(VENV) (first time: a few minutes)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --progress-bar on -e '.[plot]'
	touch $(DEMO_STAMP)

$(DEV_STAMP): pyproject.toml
	@echo "== installing portwatch and its development tools into $(VENV) (first time: a few minutes)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --progress-bar on -e '.[dev]'
	touch $(DEV_STAMP) $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	$(BIN)/portwatch demo
	@echo 'Live (after $(BIN)/pip install -e .[service]): $(BIN)/portwatch serve --replay otay-mesa --speed 60 --db demo.db, then open http://127.0.0.1:8080/dashboard with a token from: $(BIN)/portwatch service token create --role analyst --name demo --db demo.db'

test: $(DEV_STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile

bench: $(DEV_STAMP)
	$(BIN)/python -m benchmarks

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy src

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .mypy_cache
