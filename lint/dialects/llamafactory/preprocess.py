"""The rows LLaMA-Factory drops while preprocessing, found by reading the data as it does.

LLaMA-Factory converts every row to a prompt (a list of messages) and a response, then each
stage's processor drops the rows whose shape it cannot train on, logging `Dropped invalid
example`. The rules, from the converters and processors (EL508's `## Source`):

- alpaca: the prompt is the history's pairs plus one user turn (always odd); the response is
  two messages for a KTO row (a boolean `kto_tag`) or a ranking row (string `chosen` and
  `rejected`), one when the `output` column holds a string (an empty one counts), else none.
- sharegpt: a first `system` turn is taken out; the turns must then alternate user/observation
  and assistant/function, and their number must be even (odd with `ranking`); a row that breaks
  either rule becomes an empty prompt and response.
- openai: the same, after tool results are merged into one observation turn and assistant turns
  with `tool_calls` become function turns.
- sft keeps a row whose prompt is odd and whose response is one message; rm (also used by dpo)
  and kto need two response messages; ppo (and sft evaluation with `predict_with_generate`)
  only an odd prompt; pt drops nothing.

Only JSON and JSON Lines files are read (the formats conversations are kept in); any other
type, a file above `MAX_BYTES`, or a row LLaMA-Factory itself would fail on gives None:
nothing is claimed.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Sequence

from epochlint.facts.dataset import DatasetRows, Dropped
from epochlint.facts.rowcount import cache_folder, write_cache_entry
from epochlint.reading.safeopen import read_regular
from epochlint.records import record

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs 3.5 ms a run
if TYPE_CHECKING:
    from typing import Any

# Above this a data file is not read for its rows' shapes (the row count still is).
MAX_BYTES = 64 * 1024 * 1024
# A cache entry lists the dropped rows: bounded like every other read (a bigger one is ignored).
CACHE_LIMIT = 16 << 20

USER, ASSISTANT, OBSERVATION, FUNCTION, SYSTEM = (
    "user",
    "assistant",
    "observation",
    "function",
    "system",
)
ODD_ROLES = (USER, OBSERVATION)
EVEN_ROLES = (ASSISTANT, FUNCTION)

SHAREGPT_TAGS = {
    "role_tag": "from",
    "content_tag": "value",
    "user_tag": "human",
    "assistant_tag": "gpt",
    "observation_tag": "observation",
    "function_tag": "function_call",
    "system_tag": "system",
}


# A dropped row: its 0-based index among the dataset's stored rows, and why it is dropped.
Invalid = tuple[int, str]


class Unreadable(Exception):
    """A row or file LLaMA-Factory would not convert either (it would crash): claim nothing."""


@record(frozen=True)
class Entry:
    """What a dataset_info.json entry says about the shape of its rows."""

    formatting: str
    ranking: bool
    columns: dict[str, str | None]
    tags: dict[str, str | None]

    @classmethod
    def of(cls, entry: dict[str, Any]) -> Entry:
        formatting = entry.get("formatting", "alpaca")
        columns: dict[str, str | None] = {
            "prompt": "instruction",
            "query": "input",
            "response": "output",
            "history": None,
            "messages": "conversations",
            "system": None,
            "chosen": None,
            "rejected": None,
            "kto_tag": None,
        }
        given = entry.get("columns")
        if isinstance(given, dict):
            columns.update({k: v for k, v in given.items() if k in columns})
        tags: dict[str, str | None] = dict(SHAREGPT_TAGS)
        given_tags = entry.get("tags")
        if isinstance(given_tags, dict):
            tags.update({k: v for k, v in given_tags.items() if k in tags})
        return cls(str(formatting), bool(entry.get("ranking", False)), columns, tags)


def shape(row: Any, entry: Entry) -> tuple[int, int, str]:
    """(prompt messages, response messages, why the row is malformed or "") after the
    converter of the entry's formatting."""
    if not isinstance(row, dict):
        raise Unreadable("a row is not a JSON object")
    if entry.formatting == "alpaca":
        return _alpaca(row, entry)
    if entry.formatting in ("sharegpt", "openai"):
        return _conversation(row, entry)
    raise Unreadable(f"formatting {entry.formatting!r}")


def _alpaca(row: dict[str, Any], entry: Entry) -> tuple[int, int, str]:
    columns = entry.columns
    prompt = 1
    history = row.get(columns["history"]) if columns["history"] else None
    if isinstance(history, list):
        prompt += 2 * len(history)
    kto_tag, chosen, rejected = columns["kto_tag"], columns["chosen"], columns["rejected"]
    response_column = columns["response"]
    if kto_tag and isinstance(row.get(kto_tag), bool):
        return prompt, 2, ""
    if (
        entry.ranking
        and chosen
        and rejected
        and isinstance(row.get(chosen), str)
        and isinstance(row.get(rejected), str)
    ):
        return prompt, 2, ""
    if response_column and isinstance(row.get(response_column), str):
        return prompt, 1, ""
    what = f"`{response_column}`" if response_column else "an output column"
    if entry.ranking:
        return prompt, 0, f"no string `{chosen}` and `{rejected}`"
    return prompt, 0, f"{what} is null or missing"


def _conversation(row: dict[str, Any], entry: Entry) -> tuple[int, int, str]:
    tags, columns = entry.tags, entry.columns
    role_tag = tags["role_tag"]
    messages = row.get(columns["messages"] or "conversations")
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise Unreadable("the messages are not a list of objects")
    if tags["system_tag"] and messages and messages[0].get(role_tag) == tags["system_tag"]:
        messages = messages[1:]
    mapping = {
        tags["user_tag"]: USER,
        tags["assistant_tag"]: ASSISTANT,
        tags["observation_tag"]: OBSERVATION,
        tags["function_tag"]: FUNCTION,
        tags["system_tag"]: SYSTEM,
    }
    if entry.formatting == "openai":
        roles = _openai_roles(messages, tags, mapping)
    else:
        roles = [mapping.get(m.get(role_tag), "") for m in messages]
    broken = ""
    aligned = len(roles)
    for index, role in enumerate(roles):
        if role not in (ODD_ROLES, EVEN_ROLES)[index % 2]:
            broken, aligned = "the roles do not alternate user/assistant", index
            break
    odd_count = aligned % 2 != 0
    if not broken and odd_count != entry.ranking:
        broken = "an odd number of turns" if odd_count else "an even number of turns"
    if broken:
        return 0, 0, broken
    kto_tag, chosen, rejected = columns["kto_tag"], columns["chosen"], columns["rejected"]
    if kto_tag and isinstance(row.get(kto_tag), bool):
        return max(aligned - 1, 0), 2, ""
    if (
        entry.ranking
        and chosen
        and rejected
        and isinstance(row.get(chosen), dict)
        and isinstance(row.get(rejected), dict)
    ):
        return aligned, 2, ""
    if aligned == 0:
        return 0, 0, "no turns"
    return aligned - 1, 1, ""


def _openai_roles(
    messages: list[dict[str, Any]], tags: dict[str, str | None], mapping: dict[Any, str]
) -> list[str]:
    roles: list[str] = []
    pending_tool_results = False
    for message in messages:
        role = message.get(tags["role_tag"] or "role")
        if role in (tags["assistant_tag"], tags["function_tag"]) and message.get("tool_calls"):
            role = tags["function_tag"]
        if role == tags["observation_tag"]:
            pending_tool_results = True
            continue
        if pending_tool_results:
            roles.append(OBSERVATION)
            pending_tool_results = False
        if role not in mapping:
            raise Unreadable(f"unknown role {role!r}")
        roles.append(mapping[role])
    return roles


def keeps(prompt: int, response: int, processor: str) -> bool:
    """Whether a stage's processor keeps a row of this shape."""
    if processor == "pt":
        return True
    if prompt % 2 != 1:
        return False
    if processor == "sft":
        return response == 1
    if processor == "pairwise":
        return response >= 2
    if processor == "feedback":
        return response >= 2
    return True  # unsupervised: ppo, and sft evaluation with predict_with_generate


def processors(stage: str, predict_with_generate: bool) -> tuple[str, str]:
    """The processors of the training and the evaluation data for a stage (the DPO workflow
    loads its data as stage rm; sft evaluation generates with `predict_with_generate`)."""
    train = {
        "pt": "pt",
        "rm": "pairwise",
        "dpo": "pairwise",
        "kto": "feedback",
        "ppo": "unsupervised",
    }.get(stage, "sft")
    evaluation = "unsupervised" if train == "sft" and predict_with_generate else train
    return train, evaluation


def _why_not(prompt: int, response: int, processor: str) -> str:
    if prompt % 2 != 1:
        return "the prompt has an even number of turns"
    if processor == "sft":
        return "it holds a preference pair or a KTO label, not one answer"
    return "it has no chosen/rejected pair" if processor == "pairwise" else "it has no KTO label"


def invalid_rows(path: str, entry: dict[str, Any], processor: str) -> tuple[Invalid, ...] | None:
    """The stored rows (0-based, in LLaMA-Factory's order) that `processor` drops, each with
    why; None when that cannot be told (see the module's docstring). Cached like row counts
    (README, "Where N comes from"), so a second check does not read the data again."""
    if processor == "pt":
        return ()
    try:
        files = _files(path)
        fingerprint = [path, entry, processor, [_stat(name) for name in files]]
    except OSError:
        return None
    key = json.dumps(fingerprint, sort_keys=True, default=str)
    try:
        cache = _cache_file(key)
    except RuntimeError:  # no home folder, so no cache
        return _read_invalid_rows(files, entry, processor)
    try:
        cached = json.loads(read_regular(cache, CACHE_LIMIT))
        if isinstance(cached, dict) and cached.get("key") == key:
            found = cached.get("invalid")
            return None if found is None else tuple((int(i), str(why)) for i, why in found)
    except (OSError, ValueError, TypeError, RuntimeError):
        pass
    found = _read_invalid_rows(files, entry, processor)
    write_cache_entry(cache, {"key": key, "invalid": None if found is None else list(found)})
    return found


def _stat(path: str) -> list[int]:
    status = os.stat(path)
    return [status.st_size, status.st_mtime_ns, status.st_ino]


def _cache_file(key: str) -> str:
    # crc32 only names the file (zlib loads in well under a millisecond, hashlib in several);
    # the entry holds its whole key, so a clash is a miss, never a wrong answer.
    from zlib import crc32

    name = f"{crc32(key.encode('utf-8', 'surrogatepass')):08x}.json"
    return os.path.join(cache_folder("dropped-rows"), name)


def _read_invalid_rows(
    files: list[str], entry: dict[str, Any], processor: str
) -> tuple[Invalid, ...] | None:
    row_shape = Entry.of(entry)
    found: list[Invalid] = []
    try:
        for index, row in enumerate(_rows(files)):
            prompt, response, why = shape(row, row_shape)
            if not keeps(prompt, response, processor):
                found.append((index, why or _why_not(prompt, response, processor)))
    except (Unreadable, OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    return tuple(found)


def _files(path: str) -> list[str]:
    """A folder is every entry of os.listdir, in its order, as LLaMA-Factory's loader takes it."""
    if os.path.isdir(path):
        return [os.path.join(path, name) for name in os.listdir(path)]
    return [path]


def _rows(paths: Sequence[str]) -> Iterator[Any]:
    for path in paths:
        if not path.endswith((".json", ".jsonl")):
            raise Unreadable("only JSON and JSON Lines files are read")
        if os.path.getsize(path) > MAX_BYTES:
            raise Unreadable("too large to read")
        with open(path, "rb") as stream:
            text = stream.read().decode("utf-8-sig")
        if text.lstrip().startswith("["):
            try:
                loaded = json.loads(text)
            except ValueError:
                loaded = None
            if isinstance(loaded, list):
                yield from loaded
                continue
        for line in text.splitlines():
            if line.strip():
                yield json.loads(line)


@record(frozen=True)
class _Part:
    """The dropped rows among a dataset's (or a mix's) rows: their positions when known, else
    how many at fewest and at most."""

    length: int
    positions: tuple[int, ...] | None
    fewest: int
    most: int

    @classmethod
    def exact(cls, length: int, positions: Sequence[int]) -> _Part:
        return cls(length, tuple(positions), len(positions), len(positions))


def _drawn(invalid: int, valid: int, draws: int) -> tuple[int, int]:
    """Dropped rows among `draws` rows drawn without replacement: (fewest, most)."""
    return max(0, draws - valid), min(draws, invalid)


def _part(item: DatasetRows) -> _Part | None:
    if item.invalid is None or item.rows is None or item.stored_rows is None:
        return None
    used, stored = item.rows, item.stored_rows
    if not item.sampled:  # max_samples keeps the first rows
        return _Part.exact(used, [index for index, _ in item.invalid if index < used])
    invalid = len(item.invalid)
    valid = stored - invalid
    if used <= stored:  # a random permutation's first rows
        fewest, most = _drawn(invalid, valid, used)
        return _Part(used, None, fewest, most)
    extra = used - stored  # every row once, then `extra` drawn with replacement
    return _Part(
        used, None, invalid + (extra if not valid else 0), invalid + (extra if invalid else 0)
    )


def _merge(parts: Sequence[_Part], mix_strategy: str, probabilities: object) -> _Part | None:
    if len(parts) == 1:
        return parts[0]
    if mix_strategy == "concat":
        if all(part.positions is not None for part in parts):
            positions: list[int] = []
            offset = 0
            for part in parts:
                positions += [offset + index for index in part.positions or ()]
                offset += part.length
            return _Part.exact(offset, positions)
        length = sum(part.length for part in parts)
        return _Part(length, None, sum(p.fewest for p in parts), sum(p.most for p in parts))
    if probabilities is not None or mix_strategy not in ("interleave_under", "interleave_over"):
        return None  # random, or a strategy that fails (EL510)
    # Without probabilities, datasets' interleave takes one row of each dataset in turn:
    # under stops when the shortest runs out, over when the longest does (the others restart).
    width = len(parts)
    rounds = (min if mix_strategy == "interleave_under" else max)(p.length for p in parts)
    if all(part.positions is not None for part in parts):
        found: list[int] = []
        for column, part in enumerate(parts):
            dropped = set(part.positions or ())
            found += [
                turn * width + column for turn in range(rounds) if turn % part.length in dropped
            ]
        return _Part.exact(rounds * width, sorted(found))
    fewest = most = 0
    for part in parts:
        laps, rest = divmod(rounds, part.length)
        fewest += laps * part.fewest + max(0, part.fewest - (part.length - rest))
        most += laps * part.most + min(part.most, rest)
    return _Part(rounds * width, None, fewest, most)


def _split(
    part: _Part, val_size: float, seed: int
) -> tuple[tuple[int, int], tuple[int, int], str | None]:
    """Dropped rows on each side of `train_test_split(test_size, seed)`: the training rows'
    and the held-out rows' (fewest, most), and why they are bounds."""
    if val_size <= 1e-6:
        return (part.fewest, part.most), (0, 0), None
    length = part.length
    held_out = min(int(val_size) if val_size > 1 else math.ceil(val_size * length), length)
    kept = length - held_out
    if part.positions is not None and part.positions:
        permutation = _permutation(length, seed)
        if permutation is not None:
            test = set(permutation[:held_out])
            in_test = sum(1 for position in part.positions if position in test)
            in_train = len(part.positions) - in_test
            return (in_train, in_train), (in_test, in_test), None
    train = (max(0, part.fewest - held_out), min(part.most, kept))
    evaluation = (max(0, part.fewest - kept), min(part.most, held_out))
    note = None if train[0] == train[1] else "which rows the val_size split holds out needs numpy"
    return train, evaluation, note


def _permutation(length: int, seed: int) -> list[int] | None:
    """The permutation `datasets`' train_test_split draws: numpy's default_rng(seed)."""
    try:
        import numpy  # only for a val_size split of data with dropped rows
    except ImportError:
        return None
    return [int(index) for index in numpy.random.default_rng(seed).permutation(length)]


def account(
    train: Sequence[DatasetRows],
    evaluation: Sequence[DatasetRows],
    mix_strategy: str,
    probabilities: object,
    val_size: float,
    seed: int,
) -> Dropped | None:
    """How many training and evaluation rows preprocessing drops; None when a dataset was not
    read or the mix is random."""
    parts = [_part(item) for item in train]
    if not parts or any(part is None for part in parts):
        return None
    merged = _merge([part for part in parts if part is not None], mix_strategy, probabilities)
    if merged is None:
        return None
    dropped_train, dropped_eval, note = _split(merged, val_size, seed)
    if evaluation and val_size <= 1e-6:
        eval_parts = [_part(item) for item in evaluation]
        if any(part is None for part in eval_parts):
            return None
        mixed = _merge([p for p in eval_parts if p is not None], mix_strategy, probabilities)
        if mixed is None:
            return None
        dropped_eval = (mixed.fewest, mixed.most)
    if merged.positions is None or (evaluation and dropped_eval[0] != dropped_eval[1]):
        note = note or "num_samples draws the rows at random"
    return Dropped(dropped_train, dropped_eval, note)
