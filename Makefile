# Two commands set everything up on a bare machine: `make run` and `make test`
# (and `make demo` tries it with no accounts).
# uv is pinned and installed into .tools/ with the system Python, so nothing global is needed.
UV_VERSION := 0.13.9
UV := .tools/bin/uv
export UV_PYTHON_DOWNLOADS := never

.PHONY: install run demo test lint typecheck unit bench browser

$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen
	@touch .venv

# Only installs: the command line is then .venv/bin/lead-bot.
install: .venv

run: .venv
	$(UV) run --frozen lead-bot serve

demo: .venv
	$(UV) run --frozen lead-bot demo

# The console's browser test drives Debian's Chromium (Playwright's own download is never used).
# Installed from Debian's packages where this user may (root, or sudo without a password);
# elsewhere that test skips and says why, except under CI, where it fails.
CHROMIUM := /usr/bin/chromium
browser:
	@test -x $(CHROMIUM) || scripts/install-chromium

lint: .venv
	$(UV) run --frozen ruff check bot tests bench scripts
	$(UV) run --frozen ruff format --check bot tests bench scripts
	$(UV) run --frozen lint-imports

typecheck: .venv
	$(UV) run --frozen mypy

# Many tests wait on servers, sockets and delivery rather than compute: six workers keep two
# cores busy.
unit: .venv browser
	$(UV) run --frozen pytest -n 6

test: lint typecheck unit

bench: .venv
	$(UV) run --frozen python -m bench
