# Two commands for a fresh machine with Python 3.11: `make memo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
SEED = workbooks/ceasefire-2024-06-14.xlsx
DESK = workbooks/desk-2024-06-made-up-figures.xlsx
DESK_EARLIER = workbooks/desk-2024-06-made-up-figures-as-of-2024-06-13.xlsx

.PHONY: memo desk test lint bench clean

memo: $(VENV)/.installed
	$(BIN)/briefing build $(SEED) -o ceasefire-2024-06-14.docx

# The desk example: a month's workbook, its brief for 14 June and what changed since 13 June.
desk: $(VENV)/.installed
	$(BIN)/briefing build $(DESK) --date 2024-06-14 --since $(DESK_EARLIER) -o desk-2024-06-14.docx

# The tests run even when lint fails; one line then says which of the two failed.
test: $(VENV)/.installed
	@lint=0; $(MAKE) --no-print-directory lint || lint=$$?; \
	tests=0; $(BIN)/python -m pytest --cov || tests=$$?; \
	word() { if [ "$$1" -eq 0 ]; then echo passed; else echo "FAILED (exit $$1)"; fi; }; \
	echo "make test: lint $$(word $$lint), pytest $$(word $$tests)"; \
	[ $$lint -eq 0 ] && [ $$tests -eq 0 ]

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
	rm -rf $(VENV) build *.egg-info ceasefire-2024-06-14.docx desk-2024-06-14.docx
