# cinflow: the commands a newcomer can guess. Every target installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench install serve clean assets browser-deps cin-validator

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

assets:
	./scripts/frontend.sh

browser-deps: install
	./scripts/browser-deps.sh

# The DfE's CIN census validation rules in their own venv (.venv-cin-validator, Python 3.11).
cin-validator:
	./scripts/cin-validator.sh

demo: install assets
	mkdir -p var
	$(BIN)/cinflow demo --serve

serve: install assets
	$(BIN)/cinflow serve

test: install assets browser-deps cin-validator
	./.ci/pg-up
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .

bench: install
	./.ci/pg-up
	-$(BIN)/python bench/engine.py
	-$(BIN)/python bench/timers.py
	-$(BIN)/python bench/worklist.py
	-$(BIN)/python bench/census.py

clean:
	rm -rf $(VENV) .venv-cin-validator var node_modules webui/static/build
