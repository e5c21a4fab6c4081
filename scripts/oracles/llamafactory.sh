#!/usr/bin/env bash
# The LLaMA-Factory oracle: a virtual environment under .oracles/llamafactory with the real
# `llamafactory-cli` (from PyPI) on the CPU build of torch, for tests/test_crosscheck_llamafactory.py.
# A second run finds everything installed and returns in seconds.
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$(date +%s)
venv=.oracles/llamafactory
# The LLaMA-Factory release the crosscheck is held to; its own pins choose transformers and datasets.
llamafactory_version=0.9.5

# Ready: the pinned release is installed and its training code imports (that imports torchaudio
# and transformers' image code, so it also proves the workaround below holds).
ready() {
  "$venv/bin/python" - <<PY 2>/dev/null
import importlib.metadata, sys
assert importlib.metadata.version("llamafactory") == "$llamafactory_version"
import llamafactory.data.mm_plugin, llamafactory.train.tuner
PY
}
if ! ready; then
  python3 -m venv "$venv"
  # torch first, pinned to the CPU wheel, so that LLaMA-Factory's `torch>=...` is already met
  # and pip never reaches for the multi-gigabyte CUDA build.
  "$venv/bin/pip" install -q torch==2.13.0
  "$venv/bin/pip" install -q "llamafactory==$llamafactory_version" torch==2.13.0
  # LLaMA-Factory requires torchvision and torchaudio, but PyPI has only CUDA builds of them,
  # whose compiled parts cannot load beside the CPU torch ("operator torchvision::nms does not
  # exist", "libc10_cuda.so: cannot open shared object file"). Text training needs neither:
  # transformers uses torchvision only when it is installed, and LLaMA-Factory only imports
  # torchaudio, which runs as pure Python once its CUDA libraries are gone (torchaudio's
  # _load_lib treats a missing library as "extension not built").
  "$venv/bin/pip" uninstall -q -y torchvision
  torchaudio_dir=$("$venv/bin/python" -c "import importlib.util, os; print(os.path.dirname(importlib.util.find_spec('torchaudio').origin))")
  rm -f "$torchaudio_dir"/lib/*.so
  ready || { echo "the llamafactory oracle in $venv does not import" >&2; exit 1; }
fi
echo "llamafactory oracle ready in $venv ($(( $(date +%s) - start )) s)"
