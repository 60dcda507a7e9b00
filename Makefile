# Two entry points, each doing its own set-up on a fresh machine:
#   make demo   grade the bundled sample submissions on embedded data
#   make test   run the test suite
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.dlgrade-installed
PYTEST_ARGS ?= -m "not exhaustive"

.PHONY: demo test test-all setup sandbox-tools clean

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	$(PY) -c "import torch, torchvision; print('torch', torch.__version__, '/ torchvision', torchvision.__version__)"
	@touch $(STAMP)

setup: $(STAMP) sandbox-tools

# bubblewrap isolates each submission (libseccomp backs its socket filter); `dlgrade grade` refuses to
# run without them unless given --sandbox none.
sandbox-tools:
	@command -v bwrap >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && (apt-get update -qq >/dev/null && apt-get install -y -qq bubblewrap libseccomp-dev >/dev/null) \
	  || echo "note: bubblewrap is not installed: dlgrade grade will refuse to run (install bubblewrap)"; }

demo: setup
	$(VENV)/bin/dlgrade demo

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

# Everything, the exhaustive cross-checks too (every platform on every sample, self-check agreement).
test-all: setup
	$(PY) -m pytest

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache
