# Two commands for a fresh machine with Python 3.11: `make memo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
SEED = workbooks/ceasefire-2024-06-14.xlsx

.PHONY: memo test lint bench clean

memo: $(VENV)/.installed
	$(BIN)/briefing build $(SEED) -o ceasefire-2024-06-14.docx

test: lint
	$(BIN)/python -m pytest --cov

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(VENV)/.installed
	$(BIN)/python bench/bench_build.py

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

clean:
	rm -rf $(VENV) build *.egg-info ceasefire-2024-06-14.docx
