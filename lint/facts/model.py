"""The size of the model a config trains, when the config shows it.

From the model's name (`SmolLM2-135M`, `Qwen2.5-0.5B`, `Llama-3.1-70B`: the largest size written
in it, so `Qwen3-30B-A3B` is 30B), else from the `config.json` of a local model folder, counted
from its shape the way a decoder-only transformer's weights add up. Unknown otherwise: the
learning-rate rule then uses the tables as they are (README "The guideline tables").
"""

from __future__ import annotations

import json
import os
import re

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs 3.5 ms a run
if TYPE_CHECKING:
    from typing import Any

# A size in a model name: a number followed by M or B, not part of a longer word or number
# (`stablelm-2-1_6b` writes 1.6B with an underscore).
_SIZE = re.compile(r"(?<![\w.])(\d+(?:[._]\d+)?)([MmBb])(?![A-Za-z0-9])")
_UNIT = {"m": 1e6, "b": 1e9}


def parameters_in_name(name: str) -> float | None:
    """The parameter count a model name states (`SmolLM2-1.7B-Instruct` is 1.7e9)."""
    sizes = [
        float(number.replace("_", ".")) * _UNIT[unit.lower()]
        for number, unit in _SIZE.findall(name)
    ]
    return max(sizes) if sizes else None


def parameters_of_config(config: dict[str, Any]) -> float | None:
    """Weights of a decoder-only model from its config.json: embeddings (twice unless tied),
    and per layer the attention projections and a gated MLP."""
    try:
        hidden = int(config["hidden_size"])
        layers = int(config["num_hidden_layers"])
        vocabulary = int(config["vocab_size"])
    except (KeyError, TypeError, ValueError):
        return None
    intermediate = int(config.get("intermediate_size") or 4 * hidden)
    heads = int(config.get("num_attention_heads") or 1)
    kv_heads = int(config.get("num_key_value_heads") or heads)
    head_size = int(config.get("head_dim") or hidden // max(heads, 1))
    attention = 2 * hidden * heads * head_size + 2 * hidden * kv_heads * head_size
    mlp = 3 * hidden * intermediate
    embeddings = vocabulary * hidden * (1 if config.get("tie_word_embeddings", False) else 2)
    return float(embeddings + layers * (attention + mlp))


def model_parameters(name: str | None, root: str) -> float | None:
    """The model's parameter count from its name or its local config.json; None if unknown."""
    if not name:
        return None
    stated = parameters_in_name(os.path.basename(name.rstrip("/")))
    if stated is not None:
        return stated
    path = os.path.join(root, name, "config.json")
    try:
        with open(path, encoding="utf-8") as stream:
            config = json.load(stream)
    except (OSError, ValueError):
        return None
    return parameters_of_config(config) if isinstance(config, dict) else None
