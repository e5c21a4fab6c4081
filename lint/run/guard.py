"""Read a training launch command as the launcher will: which config, which overrides, how many
processes.

`llamafactory-cli train cfg.yaml key=value ...` (README "Guard the launch"): the config is
the argument after `train`, the `key=value` arguments after it are OmegaConf overrides, and
the launcher re-executes itself under torchrun when `FORCE_TORCHRUN` is set or more than one
device is visible, with `NPROC_PER_NODE` (default: the device count) processes on each of
`NNODES` nodes. Axolotl (`axolotl train cfg.yml`, `accelerate launch ... -m axolotl.cli.train
cfg.yml`) takes the first YAML argument and no overrides; accelerate's `--num_processes` gives
its world size. The command word itself is never interpreted, so any wrapper script works.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping, Sequence

from epochlint.dialects import takes_overrides
from epochlint.overrides import looks_like_override
from epochlint.records import record

CONFIG_SUFFIXES = (".yaml", ".yml", ".json")
TRUE = ("true", "y", "1")  # LLaMA-Factory's is_env_enabled


class GuardError(Exception):
    """The command cannot be guarded (no config in it, a bad environment value)."""


@record(frozen=True)
class Launch:
    config: str
    overrides: tuple[str, ...]
    takes_overrides: bool  # the launcher reads `key=value` arguments after the config


@record(frozen=True)
class WorldSize:
    size: int
    source: str  # said to the user: where the number came from


def read_command(argv: Sequence[str]) -> Launch:
    arguments = list(argv)
    if "--config" in arguments[1:]:
        return _config_option_launch(arguments)
    overridable = takes_overrides(arguments)
    index = None
    if "train" in arguments[1:]:
        after = arguments.index("train", 1) + 1
        if after < len(arguments) and arguments[after].endswith(CONFIG_SUFFIXES):
            index = after
    if index is None:
        index = next(
            (i for i, a in enumerate(arguments) if i > 0 and a.endswith(CONFIG_SUFFIXES)), None
        )
    if index is None:
        raise GuardError(
            "no config in the command: expected `... train CONFIG.yaml` or a .yaml/.yml/.json "
            "argument"
        )
    overrides: list[str] = []
    if overridable:
        for argument in arguments[index + 1 :]:
            if not looks_like_override(argument):
                break
            overrides.append(argument)
    return Launch(arguments[index], tuple(overrides), overridable)


def _config_option_launch(arguments: list[str]) -> Launch:
    """TrlParser scripts (`trl sft --config x.yaml ...`, `accelerate launch [options] train.py
    --config x.yaml ...`): the script's `--key value` arguments override the YAML (they set
    argparse values over the defaults the YAML gave). They become `key=value` overrides."""
    at = arguments.index("--config", 1)
    if at + 1 >= len(arguments) or not arguments[at + 1].endswith(CONFIG_SUFFIXES):
        raise GuardError("`--config` needs the training config: `--config CONFIG.yaml`")
    scripts = [i for i, argument in enumerate(arguments[:at]) if argument.endswith(".py")]
    start = scripts[-1] + 1 if scripts else 2 if arguments[0].endswith("trl") else at
    overrides: list[str] = []
    words = arguments[start:]
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if not word.startswith("--") or word == "--config":
            index += word == "--config"  # skip the config path
            continue
        name, equals, value = word[2:].partition("=")
        if not equals:
            has_value = index < len(words) and not words[index].startswith("--")
            value = words[index] if has_value else "true"
            index += has_value
        overrides.append(f"{name.replace('-', '_')}={value}")
    return Launch(arguments[at + 1], tuple(overrides), True)


def _count(environment: Mapping[str, str], name: str) -> int | None:
    value = environment.get(name)
    if value is None or value.strip() == "":
        return None
    try:
        number = int(value)
    except ValueError:
        raise GuardError(f"{name}={value!r} is not a whole number") from None
    if number < 1:
        raise GuardError(f"{name}={value!r} must be at least 1")
    return number


def device_count(environment: Mapping[str, str]) -> tuple[int, str]:
    """Visible GPUs: CUDA_VISIBLE_DEVICES when set (what torch sees), else `nvidia-smi -L`."""
    visible = environment.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        # torch stops at the first invalid entry, so `-1` (or nothing) means no GPU.
        devices = []
        for item in visible.split(","):
            if not item.strip() or item.strip().startswith("-"):
                break
            devices.append(item)
        return len(devices), f"CUDA_VISIBLE_DEVICES={visible}"
    smi = shutil.which("nvidia-smi")
    if smi is not None:
        try:
            listing = subprocess.run(
                [smi, "-L"], capture_output=True, text=True, timeout=10, check=False
            ).stdout
        except (OSError, subprocess.SubprocessError):
            listing = ""
        gpus = sum(1 for line in listing.splitlines() if line.startswith("GPU "))
        if gpus:
            return gpus, "nvidia-smi -L"
    return 0, "no GPU found"


def _accelerate_processes(argv: Sequence[str]) -> int | None:
    for index, argument in enumerate(argv):
        for flag in ("--num_processes", "--num-processes"):
            if argument == flag and index + 1 < len(argv):
                value = argv[index + 1]
            elif argument.startswith(flag + "="):
                value = argument.split("=", 1)[1]
            else:
                continue
            try:
                return max(int(value), 1)
            except ValueError:
                raise GuardError(f"{flag} {value!r} is not a whole number") from None
    return None


def world_size(argv: Sequence[str], environment: Mapping[str, str]) -> WorldSize:
    """Data-parallel processes the launch will start, and where that number came from."""
    processes = _accelerate_processes(argv)
    if processes is not None:
        return WorldSize(processes, f"--num_processes {processes}")
    devices, seen = device_count(environment)
    nodes = _count(environment, "NNODES") or 1
    forced = environment.get("FORCE_TORCHRUN", "0").lower() in TRUE
    if not forced and devices <= 1:
        return WorldSize(1, f"one process: {seen}")
    per_node = _count(environment, "NPROC_PER_NODE")
    if per_node is None:
        per_node, source = max(devices, 1), seen
    else:
        source = f"NPROC_PER_NODE={per_node}"
    if nodes > 1:
        source += f" x NNODES={nodes}"
    return WorldSize(per_node * nodes, f"torchrun, {source}")
