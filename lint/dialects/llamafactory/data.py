"""Resolve the number of training rows N from a LLaMA-Factory config's dataset settings.

Names are looked up in ``<dataset_dir>/dataset_info.json`` with LLaMA-Factory's precedence, local
files are counted with ``count_rows``, then ``num_samples``, ``max_samples`` and ``mix_strategy``
are applied as LLaMA-Factory's loader does. Anything that cannot be known statically (hub data,
streaming, random interleaving) makes N unknown and says how the user can provide it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

from epochlint.facts.dataset import DatasetProblem, DatasetRows, Resolution
from epochlint.facts.rowcount import RowCountError, count_rows
from epochlint.paths import pure
from epochlint.reading.safeopen import DATASET_INFO_LIMIT, read_regular_text
from epochlint.records import record

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs 3.5 ms a run
if TYPE_CHECKING:
    from typing import Any

__all__ = ["resolve"]

DATASET_INFO_FILE = "dataset_info.json"
HOW_TO_PROVIDE_N = (
    "pass --dataset-size N or add a '# epochlint: dataset-size=N' comment to the config"
)
_HUB_URL_KEYS = ("hf_hub_url", "ms_hub_url", "om_hub_url")


def split_dataset_names(value: str | Sequence[str] | None) -> list[str]:
    """DataArguments splits a string on ',' and strips each name; a YAML list is taken as is."""
    if value is None:
        return []
    if isinstance(value, str):
        pieces = value.split(",")
    elif isinstance(value, (list, tuple)):
        pieces = [str(item) for item in value]
    else:  # `dataset: 1` or a mapping: EL102 reports the type; one name keeps the rest going
        pieces = [str(value)]
    return [name.strip() for name in pieces if name.strip()]


def resolve(
    dataset: str | Sequence[str] | None,
    eval_dataset: str | Sequence[str] | None,
    *,
    dataset_dir: str = "data",
    root: str,
    max_samples: int | None = None,
    mix_strategy: str = "concat",
    interleave_probs: object = None,
    streaming: bool = False,
    processors: tuple[str, str] | None = None,
    val_size: float = 0.0,
    seed: int = 42,
) -> Resolution:
    """Count the training (and eval) rows LLaMA-Factory would load, before any val_size split;
    with the `processors` of the training and eval data, also the rows their preprocessing
    drops (after the val_size split, made with `seed`)."""
    train_names = split_dataset_names(dataset)
    eval_names = split_dataset_names(eval_dataset)
    problems: list[DatasetProblem] = []
    if not train_names and not eval_names:
        return Resolution(None, (), None, (), ())

    catalog = _load_catalog(dataset_dir, root, problems)
    dataset_folder = os.path.join(root, dataset_dir)
    resolver = _EntryResolver(catalog, dataset_folder, max_samples, streaming, problems)
    train_processor, eval_processor = processors or (None, None)
    train = tuple(resolver.resolve_name(name, train_processor) for name in train_names)
    evaluation = tuple(resolver.resolve_name(name, eval_processor) for name in eval_names)

    train_rows = _merge(train, mix_strategy, interleave_probs, streaming, "dataset", problems)
    eval_rows = _merge(
        evaluation, mix_strategy, interleave_probs, streaming, "eval_dataset", problems
    )
    dropped = None
    if processors is not None and not streaming:
        from epochlint.dialects.llamafactory.preprocess import account

        dropped = account(train, evaluation, mix_strategy, interleave_probs, val_size, seed)
    # The same hub dataset named twice would otherwise be reported twice.
    unique = tuple(dict.fromkeys(problems))
    return Resolution(train_rows, train, eval_rows, evaluation, unique, dropped)


@record(frozen=True)
class _Catalog:
    """What dataset_info.json gave: entries, or why every name's source is unknown."""

    entries: dict[str, Any] | None
    unknown_source: str | None  # "online" / "unknown" when entries is None


def _load_catalog(dataset_dir: str, root: str, problems: list[DatasetProblem]) -> _Catalog:
    if dataset_dir == "ONLINE":
        problems.append(
            _unknown_size(
                "dataset_dir is ONLINE, so every dataset is downloaded from a hub and its size "
                f"is unknown; {HOW_TO_PROVIDE_N}",
                None,
            )
        )
        return _Catalog(None, "online")
    if dataset_dir.startswith("REMOTE:"):
        problems.append(
            _unknown_size(
                f"dataset_dir {dataset_dir} downloads dataset_info.json from a hub, so the "
                f"dataset size is unknown; {HOW_TO_PROVIDE_N}",
                None,
            )
        )
        return _Catalog(None, "hub")
    info_path = os.path.join(root, dataset_dir, DATASET_INFO_FILE)
    shown = os.path.join(dataset_dir, DATASET_INFO_FILE)
    try:
        text = read_regular_text(info_path, DATASET_INFO_LIMIT)
    except FileNotFoundError:
        problems.append(
            _unknown_size(
                f"{shown} was not found, so the dataset size is unknown; run epochlint from the "
                f"directory you train in, or {HOW_TO_PROVIDE_N}",
                None,
            )
        )
        return _Catalog(None, "unknown")
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        problems.append(_unreadable(f"{shown}: cannot read ({reason}); {HOW_TO_PROVIDE_N}", None))
        return _Catalog(None, "unknown")
    try:
        entries = json.loads(text)
    except RecursionError:
        problems.append(
            _unreadable(
                f"{shown}: nested too deeply to be a dataset catalog; {HOW_TO_PROVIDE_N}", None
            )
        )
        return _Catalog(None, "unknown")
    except json.JSONDecodeError as err:
        problems.append(
            _unreadable(
                f"{shown}: line {err.lineno} column {err.colno}: invalid JSON ({err.msg}); "
                "fix the file, LLaMA-Factory cannot read it either",
                None,
            )
        )
        return _Catalog(None, "unknown")
    if not isinstance(entries, dict):
        problems.append(
            _unreadable(
                f"{shown}: must be a JSON object mapping dataset names to entries, "
                f"not a {type(entries).__name__}",
                None,
            )
        )
        return _Catalog(None, "unknown")
    return _Catalog(entries, None)


class _EntryResolver:
    def __init__(
        self,
        catalog: _Catalog,
        dataset_folder: str,
        max_samples: int | None,
        streaming: bool,
        problems: list[DatasetProblem],
    ) -> None:
        self.catalog = catalog
        self.dataset_folder = dataset_folder
        self.max_samples = max_samples
        self.streaming = streaming
        self.problems = problems

    def resolve_name(self, name: str, processor: str | None = None) -> DatasetRows:
        entries = self.catalog.entries
        if entries is None:
            # The reason (ONLINE, missing or broken dataset_info.json) was reported once already.
            return DatasetRows(
                name, None, None, self.catalog.unknown_source or "unknown", None, False
            )
        if name not in entries:
            self.problems.append(self._undefined(name, list(entries)))
            return DatasetRows(name, None, None, "unknown", None, False)
        entry = entries[name]
        if not isinstance(entry, dict):
            self.problems.append(
                _unreadable(
                    f"{DATASET_INFO_FILE}: the entry for {name!r} must be a JSON object, "
                    f"not a {type(entry).__name__}",
                    name,
                )
            )
            return DatasetRows(name, None, None, "unknown", None, False)
        ranking = bool(entry.get("ranking", False))
        source = _source_of(entry)
        if source != "file":
            where = {
                "hub": "is downloaded from a hub",
                "script": "is built by a loading script",
                "cloud": "is read from cloud storage",
            }[source]
            self.problems.append(
                _unknown_size(
                    f"dataset {name!r} {where}, so its size is unknown; {HOW_TO_PROVIDE_N}", name
                )
            )
            return DatasetRows(name, None, None, source, None, ranking)
        return self._resolve_file(name, entry, ranking, processor)

    def _resolve_file(
        self, name: str, entry: dict[str, Any], ranking: bool, processor: str | None
    ) -> DatasetRows:
        file_name = entry.get("file_name")
        if not isinstance(file_name, str) or not file_name:
            self.problems.append(
                _unreadable(
                    f"{DATASET_INFO_FILE}: the entry for {name!r} has no file_name (nor a hub, "
                    "script or cloud source); add one",
                    name,
                )
            )
            return DatasetRows(name, None, None, "file", None, ranking)
        local_path = pure(os.path.join(self.dataset_folder, file_name))
        try:
            stored_rows = count_rows(local_path)
        except RowCountError as err:
            self.problems.append(_unreadable(f"dataset {name!r}: {err}", name))
            return DatasetRows(name, None, None, "file", local_path, ranking)
        invalid = None
        if processor is not None:
            from epochlint.dialects.llamafactory.preprocess import invalid_rows

            invalid = invalid_rows(local_path, entry, processor)
        num_samples = entry.get("num_samples")
        return DatasetRows(
            name,
            self._rows_used(name, stored_rows, entry),
            stored_rows,
            "file",
            local_path,
            ranking,
            invalid,
            sampled=isinstance(num_samples, int) and not isinstance(num_samples, bool),
        )

    def _rows_used(self, name: str, stored_rows: int, entry: dict[str, Any]) -> int | None:
        rows = stored_rows
        num_samples = entry.get("num_samples")
        # LLaMA-Factory resamples to exactly num_samples rows (with replacement when larger), but
        # only when not streaming.
        if (
            isinstance(num_samples, int)
            and not isinstance(num_samples, bool)
            and not self.streaming
        ):
            if num_samples < 0:
                self.problems.append(
                    _unreadable(
                        f"dataset {name!r}: num_samples {num_samples:,} in {DATASET_INFO_FILE}: "
                        "LLaMA-Factory resamples to exactly num_samples rows, which cannot be "
                        "negative",
                        name,
                    )
                )
                return None
            rows = num_samples
        if self.max_samples is not None:
            # select(range(min(max_samples, rows))): a negative max_samples keeps none (EL410)
            rows = max(min(self.max_samples, rows), 0)
        return rows

    def _undefined(self, name: str, known_names: list[str]) -> DatasetProblem:
        import difflib  # only for a name that is unknown

        matches = difflib.get_close_matches(name, known_names, n=2, cutoff=0.75)
        suggestion = matches[0] if len(matches) == 1 else None
        hint = (
            f"did you mean {suggestion!r}?"
            if suggestion
            else (f"add it to {DATASET_INFO_FILE} or fix the name")
        )
        return DatasetProblem(
            "EL502", f"Undefined dataset {name} in {DATASET_INFO_FILE}; {hint}", name, suggestion
        )


def _source_of(entry: dict[str, Any]) -> str:
    # LLaMA-Factory's precedence: any hub url, then script_url, then cloud_file_name, then file.
    if any(key in entry for key in _HUB_URL_KEYS):
        return "hub"
    if "script_url" in entry:
        return "script"
    if "cloud_file_name" in entry:
        return "cloud"
    return "file"


def _merge(
    datasets: tuple[DatasetRows, ...],
    mix_strategy: str,
    interleave_probs: object,
    streaming: bool,
    key: str,
    problems: list[DatasetProblem],
) -> int | None:
    if not datasets:
        return None
    if streaming:
        problems.append(
            _unknown_size(
                f"streaming: true reads {key} lazily, so its size is unknown; {HOW_TO_PROVIDE_N}",
                None,
            )
        )
        return None
    counts = [item.rows for item in datasets]
    if any(count is None for count in counts):
        return None
    known = [count for count in counts if count is not None]
    if len(known) == 1 or mix_strategy == "concat":
        return sum(known)
    if interleave_probs is not None and mix_strategy in ("interleave_under", "interleave_over"):
        problems.append(
            _unknown_size(
                f"{mix_strategy} with interleave_probs samples {key} at random, so the number "
                f"of rows varies; {HOW_TO_PROVIDE_N}",
                None,
            )
        )
        return None
    if mix_strategy == "interleave_under":
        return len(known) * min(known)
    if mix_strategy == "interleave_over":
        return len(known) * max(known)
    if mix_strategy == "interleave_once":
        return None  # loading the data fails: EL510 says so
    reason = f"mix_strategy {mix_strategy!r} is not one epochlint knows"
    problems.append(_unknown_size(f"{reason}, so {key} size is unknown; {HOW_TO_PROVIDE_N}", None))
    return None


def _unknown_size(message: str, dataset: str | None) -> DatasetProblem:
    return DatasetProblem("EL501", message, dataset, None)


def _unreadable(message: str, dataset: str | None) -> DatasetProblem:
    return DatasetProblem("EL503", message, dataset, None)
