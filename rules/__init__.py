"""The rule catalogue.

Each rule is a function decorated with `@rule(...)`: it receives the facts of one config (a
`Context`: the canonical config, the schedule plan, the dataset rows and the settings) and
yields `Finding`s. Its docstring is its documentation (`epochlint rule EL201`), in the
sections What it does / Why is this bad? / Example / Use instead / Fix safety.

Rule IDs and names are a public contract: users put them in --select, --ignore and
suppression comments. Never reuse or rename one.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from functools import cache

from epochlint.diagnostic import Fix, Severity
from epochlint.records import field, record

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs 3.5 ms a run
if TYPE_CHECKING:
    from typing import Any, Literal

    from epochlint.facts.context import Context
    from epochlint.reading.document import Span


@record(frozen=True)
class Finding:
    message: str
    span: Span | None = None  # None: the finding is about the file as a whole
    fix: Fix | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    severity: Severity | None = None  # only for rules whose severity depends on the case


Check = Callable[["Context"], Iterable[Finding]]


@record(frozen=True)
class Rule:
    code: str
    name: str
    severity: Severity
    fix: Literal["safe", "suggested"] | None
    check: Check
    # Not in the default selection (as ruff's rules outside its default set): a rule that
    # fires on most real configs without changing what anyone does. `--extend-select` or a
    # `select` that names it turns it on.
    opt_in: bool = False

    # The documentation is read from the docstring when it is shown, not when every rule is
    # registered at the start of every run.
    @property
    def doc(self) -> str:
        return cleandoc(self.check.__doc__ or "")

    @property
    def summary(self) -> str:
        return self.doc.split("\n", 1)[0]


REGISTRY: dict[str, Rule] = {}


def rule(
    code: str,
    name: str,
    severity: str,
    fix: Literal["safe", "suggested"] | None = None,
    opt_in: bool = False,
) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        if code in REGISTRY:
            raise RuntimeError(f"rule {code} registered twice")
        REGISTRY[code] = Rule(code, name, Severity(severity), fix, check, opt_in)
        return check

    return register


def cleandoc(doc: str) -> str:
    """`inspect.cleandoc`, without importing `inspect` (4 ms, with `ast` and `dis`) on every run."""
    lines = doc.expandtabs().split("\n")
    margin = sys.maxsize
    for line in lines[1:]:
        content = len(line.lstrip())
        if content:
            margin = min(margin, len(line) - content)
    lines[0] = lines[0].lstrip()
    if margin < sys.maxsize:
        lines[1:] = [line[margin:] for line in lines[1:]]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines)


def all_rules() -> list[Rule]:
    """Every rule, in ID order (importing the family modules registers them).

    Always import every family: one family imported on its own (rules.keys imports
    rules.reading) must not stand for the whole catalogue. Python caches the imports.
    """
    from epochlint.rules import (  # noqa: F401
        data,
        evaluation,
        keys,
        learning_rate,
        length,
        reading,
    )

    return [REGISTRY[code] for code in sorted(REGISTRY)]


@cache  # asked for every rule of every file; the registry is complete once loaded
def default_selection() -> frozenset[str]:
    """The rules a run checks when nothing selects rules: every rule that is not opt-in."""
    return frozenset(rule.code for rule in all_rules() if not rule.opt_in)


def get_rule(code_or_name: str) -> Rule | None:
    for candidate in all_rules():
        if code_or_name in (candidate.code, candidate.name):
            return candidate
    return None
