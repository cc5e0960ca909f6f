# The project's commands. `make preview` and `make test` set up what they need on a fresh clone.
PYTHON ?= python3
VENV ?= venv
PY := $(VENV)/bin/python
STACK ?= all

.PHONY: setup preview preview-json test lint typecheck unit bench clean

setup: $(VENV)/.installed monitoring/kqlcheck/node_modules/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	# The project's own packages (offline, gate, components...) importable from any directory.
	echo "$(CURDIR)" > "$$($(PY) -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/meajudaai-infra.pth"
	touch $@

# Microsoft's KQL parser (npm) checks the alert queries offline; Node.js comes with the machine image.
monitoring/kqlcheck/node_modules/.installed: monitoring/kqlcheck/package-lock.json
	npm ci --prefix monitoring/kqlcheck --no-audit --no-fund --loglevel=error
	touch $@

# The main job: every stack run under Pulumi's mock engine, with both policy packs over the analyzer protocol.
preview: setup
	$(PY) -m offline --stack $(STACK)

preview-json: setup
	$(PY) -m offline --stack $(STACK) --json reports/offline-preview.json --sarif reports/offline-preview.sarif

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup
	$(VENV)/bin/mypy . .github/scripts

unit: setup
	# One file per worker at a time: a module's shared runs (stacks, pack processes) happen once.
	# (--dist loadgroup would be finer, but pytest-xdist 3.8 ignores xdist_group marks under pytest 9.)
	$(PY) -m pytest -q -n 2 --dist loadfile

test: lint typecheck unit

bench: setup
	$(PY) benchmarks/offline_preview.py

clean:
	rm -rf $(VENV) reports .pytest_cache .mypy_cache .ruff_cache .hypothesis
