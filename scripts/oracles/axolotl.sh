#!/usr/bin/env bash
# The Axolotl oracle: a virtual environment under .oracles/axolotl holding Axolotl for config
# validation only (no GPU kernels), for tests/test_crosscheck_axolotl.py.
# Axolotl itself goes in with --no-deps (its pins want CUDA builds: xformers, triton, flash-attn);
# then only the packages its config-validation imports need, at the versions Axolotl pins.
# A second run finds everything installed and returns in seconds.
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$(date +%s)
venv=.oracles/axolotl
# The Axolotl release the crosscheck is held to: the one the reference facts were read from.
axolotl_version=0.18.0
# What `axolotl.utils.config.validate_config` and `prepare_plugins` import, installed with
# their own dependencies at Axolotl's pins (read from Axolotl's metadata below).
with_dependencies="transformers pydantic PyYAML addict peft accelerate datasets trl huggingface_hub
  tokenizers packaging pillow evaluate wandb colorama posthog mistral-common"
# Imported by plugin modules only for names; their own dependencies are not needed.
without_dependencies="torchao llmcompressor compressed-tensors loguru numba llvmlite"

ready() {
  "$venv/bin/python" - "$axolotl_version" 2>/dev/null <<'PY'
import importlib.metadata as metadata
import sys

sys.exit(metadata.version("axolotl") != sys.argv[1])
PY
}

# The requirement Axolotl's metadata states for each named package (the bare name if unpinned).
pins() {
  "$venv/bin/python" - "$@" <<'PY'
import importlib.metadata as metadata
import re
import sys

wanted = {re.sub(r"[-_.]+", "-", name).lower() for name in sys.argv[1:]}
found = {}
for requirement in metadata.requires("axolotl") or []:
    spec = requirement.split(";")[0].strip()
    if "extra ==" in requirement:
        continue
    name = re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9_.-]+", spec).group()).lower()
    if name in wanted:
        found[name] = spec.replace(" ", "")
print(" ".join(found.get(name, name) for name in sorted(wanted)))
PY
}

if ! ready; then
  python3 -m venv "$venv"
  # torch first, pinned to the CPU wheel (Axolotl pins torch<=2.12.1, which would pull the
  # multi-gigabyte CUDA build; the config validation does not depend on the torch version).
  "$venv/bin/pip" install -q torch==2.13.0
  "$venv/bin/pip" install -q --no-deps "axolotl==$axolotl_version"
  # shellcheck disable=SC2046,SC2086  # word splitting of the requirement lists is intended
  # --no-warn-conflicts: pip would list every GPU package Axolotl requires and does not get.
  "$venv/bin/pip" install -q --no-warn-conflicts torch==2.13.0 $(pins $with_dependencies)
  # shellcheck disable=SC2046,SC2086
  "$venv/bin/pip" install -q --no-warn-conflicts --no-deps $(pins $without_dependencies)
fi
AXOLOTL_DO_NOT_TRACK=1 HF_HUB_OFFLINE=1 "$venv/bin/python" -c \
  "from axolotl.utils.config import validate_config; from axolotl.cli.config import prepare_plugins"
echo "axolotl oracle ready in $venv (axolotl $axolotl_version, $(( $(date +%s) - start )) s)"
