#!/usr/bin/env bash
# Install the TRL oracle: a virtual environment at .oracles/trl with TRL and the CPU build of
# torch, which tests/test_crosscheck_trl.py uses to measure TRL's own samplers and dataloaders.
#
# Versions: the TRL facts epochlint follows come from TRL 1.10.0.dev0 (README, "TRL configs");
# 1.10.0 is the release of that line. transformers and accelerate are the versions those facts
# were checked with. GRPOTrainer imports requests, which TRL does not declare. torch 2.13.0 is the CPU wheel on the machine's disk (a bare `torch` would
# pull a multi-GB CUDA build).
#
# Idempotent: an existing environment that already imports these versions is kept as it is.
set -euo pipefail
cd "$(dirname "$0")/../.."

TRL_VERSION=1.10.0
TRANSFORMERS_VERSION=5.24.0
ACCELERATE_VERSION=1.15.0
TORCH_VERSION=2.13.0
VENV=.oracles/trl

start=$(date +%s)
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" - "$TRL_VERSION" "$TRANSFORMERS_VERSION" "$ACCELERATE_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
wanted = dict(zip(("trl", "transformers", "accelerate"), sys.argv[1:]))
version("requests")
sys.exit(any(version(name) != v for name, v in wanted.items()) or not version("torch").startswith("2.13.0"))
PY
then
  echo "trl oracle: $VENV already has trl $TRL_VERSION"
else
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "torch==$TORCH_VERSION"
  "$VENV/bin/pip" install -q "trl==$TRL_VERSION" "transformers==$TRANSFORMERS_VERSION" \
    "accelerate==$ACCELERATE_VERSION" "torch==$TORCH_VERSION" requests
fi
"$VENV/bin/python" -c 'import trl, transformers, accelerate, torch; print("trl oracle:", "trl", trl.__version__, "transformers", transformers.__version__, "accelerate", accelerate.__version__, "torch", torch.__version__)'
echo "trl oracle: ready in $(( $(date +%s) - start ))s"
