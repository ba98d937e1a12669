# Two commands a newcomer needs: `make build` (example site -> output/) and `make test` (the whole suite).
# Both create .venv on first use; nothing is installed outside it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: build check test lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

build: $(STAMP)
	$(BIN)/feedwright build

check: $(STAMP)
	$(BIN)/feedwright check

test: $(STAMP)
	$(BIN)/python -m pytest -q
	$(MAKE) --no-print-directory lint

# Style, types and dead code: ruff, mypy (src/ is fully typed) and vulture (what nothing calls).
lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/mypy src
	$(BIN)/vulture --min-confidence 80 src

clean:
	rm -rf $(VENV) output .feedwright
