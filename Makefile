# cinflow: the commands a newcomer can guess. Every target installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Two pytest-xdist workers (the suite's fixtures are worker-safe: see tests/conftest.py).
TEST_WORKERS ?= 2

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
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup

lint: install
	$(BIN)/ruff check .

# Every bench runs even when one misses; the target fails (exit 1) if any did.
PG_BENCH ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
bench: install
	./.ci/pg-up
	@failed=""; \
	$(BIN)/python bench/engine.py || failed="$$failed engine(SQLite)"; \
	$(BIN)/python bench/engine.py --database $(PG_BENCH) || failed="$$failed engine(PostgreSQL)"; \
	$(BIN)/python bench/timers.py --database $(PG_BENCH) || failed="$$failed timers"; \
	$(BIN)/python bench/worklist.py --database $(PG_BENCH) || failed="$$failed worklist"; \
	$(BIN)/python bench/census.py || failed="$$failed census"; \
	$(BIN)/python bench/signin.py || failed="$$failed signin"; \
	if [ -n "$$failed" ]; then echo "make bench: targets missed in:$$failed"; exit 1; fi; \
	echo "make bench: every target met"

clean:
	rm -rf $(VENV) .venv-cin-validator var node_modules webui/static/build
