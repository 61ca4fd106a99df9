# The two commands: `make run` starts the platform, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
DBVENV := .venv-db
PY := $(VENV)/bin/python
PACKAGES := -e libs/edu-common -e services/identity -e services/sms-notify \
            -e services/applicant -e services/kindergarten -e gateway

.PHONY: run test lint fmt bench check-deploy clean install

install: $(VENV)/.installed $(DBVENV)/.installed

$(VENV)/.installed: requirements/runtime.txt requirements/dev.txt */*/pyproject.toml gateway/pyproject.toml
	@$(PYTHON) -m venv $(VENV) || { echo "python3 -m venv failed: on Debian run 'apt-get install python3-venv'"; exit 1; }
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements/dev.txt
	$(VENV)/bin/pip install --quiet --no-deps $(PACKAGES)
	@touch $@

$(DBVENV)/.installed: requirements/secantus.txt
	@$(PYTHON) -m venv $(DBVENV)
	$(DBVENV)/bin/pip install --quiet --pre -r requirements/secantus.txt
	@touch $@

run: install
	$(PY) -m dev.run

test: install
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

check-deploy: install
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml
	$(VENV)/bin/kubernetes-validate --strict deploy/k8s/*.yaml

bench: install
	$(PY) -m bench.run

clean:
	rm -rf $(VENV) $(DBVENV) .data .pytest_cache
