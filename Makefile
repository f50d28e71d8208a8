# Two front doors (see README): `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-fast docs bench chromium clean flagship-posterior flagship-docs

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

# Browser tests drive Debian's chromium (never a downloaded browser).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is not installed and this is not root: browser tests will be skipped"; fi; }

demo: $(STAMP)
	$(BIN)/redline demo

test: $(STAMP) chromium
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow and not browser"

# Regenerate generated docs: the format reference (from the schema) and every quoted figure.
docs: $(STAMP)
	$(BIN)/python -m redline.scenario.format_reference > docs/format.md
	$(BIN)/python docs/quoted_figures.py --write

bench: $(STAMP)
	$(BIN)/python benchmarks/engine.py

clean:
	rm -rf $(VENV) out test-output .pytest_cache

# The flagship's posterior, regenerated from its record (ABC-SMC; see docs/flagship.md). The
# calibration summary (parameters, generations, predictive checks) goes to docs/flagship/.
FLAGSHIP := src/redline/scenarios/iran-us-2020
flagship-posterior: $(STAMP)
	$(BIN)/redline calibrate $(FLAGSHIP).yaml --record $(FLAGSHIP).record.yaml --out $(FLAGSHIP).posterior.parquet \
	  --particles 4000 --seed 1 --approximate --fresh --json > docs/flagship/calibration.json

# docs/flagship.md and docs/flagship/*.json from the scenario, its record and its posterior.
flagship-docs: $(STAMP)
	$(BIN)/python docs/flagship_figures.py
