# govwatch: every target installs what it needs first, so that a fresh machine needs only make.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)
APT_STAMP := $(VENV)/.apt-installed
# Debian packages, installed when missing: chromium for the browser tests, a CJK font for PDFs
# and screenshots, a Java runtime for Spark (pyspark, local mode), npm for the pinned ECharts,
# LibreOffice, the Noto CJK fonts and poppler for the notices (DOCX -> PDF -> page images).
CASES ?= 20000
PORT ?= 8000

.PHONY: install apt demo test test-fast fuzz bench lint format clean

$(STAMP): pyproject.toml package.json package-lock.json | $(APT_STAMP)
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[web,spark,dev]'
	# ECharts and Swagger UI (for /docs), pinned in package-lock.json, copied into the app's static
	# files by package.json's postinstall (no CDN)
	mkdir -p govwatch/web/static/vendor && npm ci --no-audit --no-fund --loglevel=error
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

$(APT_STAMP):
	@need=""; \
	command -v chromium >/dev/null 2>&1 || need="$$need chromium"; \
	fc-list 2>/dev/null | grep -qi wenquanyi || need="$$need fonts-wqy-microhei"; \
	command -v java >/dev/null 2>&1 || need="$$need default-jre-headless"; \
	command -v npm >/dev/null 2>&1 || need="$$need nodejs npm"; \
	command -v soffice >/dev/null 2>&1 || need="$$need libreoffice-writer"; \
	fc-list 2>/dev/null | grep -qi "Noto Serif CJK SC" || need="$$need fonts-noto-cjk"; \
	command -v pdftoppm >/dev/null 2>&1 || need="$$need poppler-utils"; \
	if [ -n "$$need" ]; then \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		echo "installing Debian packages:$$need"; \
		$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$need; \
	fi
	@mkdir -p $(VENV) && touch $(APT_STAMP)

install: $(APT_STAMP) $(STAMP)
apt: $(APT_STAMP)

# A sample province: generate, import, supervise, evaluate, serve.
demo: install
	$(BIN)/govwatch demo --cases $(CASES) --port $(PORT)

# Everything the tests need, then all of them (slow ones included), on DuckDB and PostgreSQL;
# the 25 slowest are listed at the end, to keep the run under 30 minutes.
test: install
	SPARK_LOCAL_IP=127.0.0.1 $(BIN)/pytest -n 2 -q -p no:cacheprovider --durations=25

# The quick loop while developing: no slow tests.
test-fast: install
	SPARK_LOCAL_IP=127.0.0.1 $(BIN)/pytest -n 2 -q -m 'not slow'

# The fuzz tests (importer and POST /api/v1/events) with many random examples; make test runs
# them bounded and derandomised (tests/fuzz_settings.py). FUZZ_EXAMPLES=N sets every test's count.
fuzz: install
	GOVWATCH_FUZZ=long $(if $(FUZZ_EXAMPLES),GOVWATCH_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES)) \
		$(BIN)/pytest -n 2 -q -p no:cacheprovider \
		tests/events/test_fuzz.py tests/api/test_events_fuzz.py

bench: install
	SPARK_LOCAL_IP=127.0.0.1 $(PY) -m bench.run $(BENCH)

# Known vulnerabilities of what is installed (the venv's distributions and the npm packages
# package-lock.json pins), checked offline against the advisories mirrored in
# security/advisories/ (refresh: tools/refresh_advisories.py; waivers: security/audit-waivers.toml).
# Installs nothing first: it audits what is there. Exit 1 on a finding that is not waived.
.PHONY: audit
audit:
	@test -x $(PY) || { echo "没有虚拟环境 $(VENV)：请先 make install"; exit 2; }
	$(PY) tools/audit_deps.py

# import-linter: the layers, storage's public API, no package cycles, function-level imports only
# where pyproject.toml lists them with the reason ([tool.importlinter]; tools/import_contracts.py).
# vulture at 80%: unused imports, unreachable code, unused arguments (see tools/vulture_whitelist.py)
lint: install
	$(BIN)/ruff check govwatch tests bench tools
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/vulture govwatch tools/vulture_whitelist.py --min-confidence 80

format: install
	$(BIN)/ruff format govwatch tests bench tools

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.duckdb demo-data test-artifacts
