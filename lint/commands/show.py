"""`--show-settings PATH`: which configuration file applies to a file, and every setting it gets."""

from __future__ import annotations

import os

from epochlint.configfile import DEFAULT_EXCLUDE, Configurations
from epochlint.paths import absolute
from epochlint.settings import default_guidelines


def show_settings(path: str, configurations: Configurations) -> str:
    """The settings of `path`, or of a config directly in it when it is a folder."""
    shown = f"files in {path}" if os.path.isdir(path) else path
    if os.path.isdir(path):
        path = os.path.join(path, "train.yaml")  # any file name: settings go by folder
    settings = configurations.settings_for(path)
    found = configurations.config_file_for(path)
    options = configurations.options_for(absolute(path))
    if configurations.isolated:
        source = "none (--isolated): the defaults and the command line"
    elif found is None:
        source = "none found: the defaults and the command line"
    else:
        source = str(found)
    exclude = options.exclude if options is not None else None
    severities = ", ".join(
        f"{code}={level.value}" for code, level in sorted(settings.severities.items())
    )
    lines = [
        ("configuration file", source),
        ("select", _codes(settings.select) if settings.select is not None else "every rule"),
        ("per-file-ignores", _codes(settings.ignore) or "-"),
        ("severity", severities or "-"),
        ("unfixable", _codes(settings.unfixable) or "-"),
        ("num-gpus", f"{settings.world_size} ({settings.world_size_source})"),
        (
            "dataset-size",
            f"{settings.dataset_size} ({settings.dataset_size_source})"
            if settings.dataset_size is not None
            else "from the config's datasets",
        ),
        ("transformers-version", str(settings.transformers)),
        ("root", str(settings.root) if settings.root is not None else "the current folder"),
        ("dialect", settings.dialect or "told from the keys"),
        ("exclude", ", ".join(DEFAULT_EXCLUDE if exclude is None else exclude) or "-"),
        ("extend-exclude", ", ".join(options.extend_exclude if options else ()) or "-"),
        (
            "guidelines",
            "the defaults"
            if settings.guidelines is default_guidelines()
            else "the defaults, with the configuration file's overrides",
        ),
    ]
    width = max(len(label) for label, _ in lines)
    return f"Settings for {shown}\n" + "".join(
        f"  {label:<{width}}  {value}\n" for label, value in lines
    )


def _codes(codes: frozenset[str]) -> str:
    return ", ".join(sorted(codes))
