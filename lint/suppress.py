"""Suppression comments: `# epochlint: disable=EL201` and `# epochlint: disable-file`.

A trailing `disable=` covers the findings that start on its own line; one alone on its line
covers the next line that holds YAML (so several can be stacked above a key). `disable-file`
covers the whole file, or only the listed rules with `disable-file=EL201,EL406`. Rule IDs
and rule names are accepted; anything else is reported, because a mistyped ID would
otherwise leave the finding in place while looking suppressed to whoever reads the file.
"""

from __future__ import annotations

from collections.abc import Iterable

from epochlint.diagnostic import Diagnostic
from epochlint.reading.directives import Directive, DirectiveError
from epochlint.reading.document import Comment, Span
from epochlint.records import field, record
from epochlint.rules import Finding, all_rules
from epochlint.settings import Settings


@record
class Suppression:
    comment: Comment
    written: str  # the directive as written, for messages
    codes: frozenset[str] | None  # None: every rule (a bare `disable-file`)
    line: int | None  # the line whose findings it covers; None: the whole file
    used: set[str] = field(default_factory=set)

    def covers(self, diagnostic: Diagnostic) -> bool:
        if self.line is not None and diagnostic.line != self.line:
            return False
        return self.codes is None or diagnostic.rule in self.codes


def comment_span(comment: Comment) -> Span:
    """The `# ...` comment itself, from the `#` to the end of its text."""
    length = len(comment.text) + 1
    return Span(
        comment.offset,
        comment.offset + length,
        comment.line,
        comment.column,
        comment.line,
        comment.column + length,
    )


def _rule_codes() -> dict[str, str]:
    """Every accepted spelling (ID, lower-case ID, name) mapped to its rule ID."""
    spellings: dict[str, str] = {}
    for rule in all_rules():
        spellings[rule.code] = spellings[rule.code.lower()] = spellings[rule.name] = rule.code
    return spellings


def _next_yaml_line(lines: list[str], after: int) -> int | None:
    """The first line after line `after` (1-based) that is neither blank nor only a comment."""
    for number in range(after + 1, len(lines) + 1):
        stripped = lines[number - 1].strip()
        if stripped and not stripped.startswith("#"):
            return number
    return None


def read_suppressions(
    directives: list[Directive], text: str
) -> tuple[list[Suppression], list[DirectiveError]]:
    """The suppressions among the directives, and the errors in them (unknown rule IDs)."""
    if not any(directive.name in ("disable", "disable-file") for directive in directives):
        return [], []  # most files: no need to split the text into lines
    spellings = _rule_codes()
    lines = text.splitlines()
    suppressions: list[Suppression] = []
    errors: list[DirectiveError] = []
    for directive in directives:
        if directive.name not in ("disable", "disable-file"):
            continue
        written = directive.name + (f"={directive.value}" if directive.value else "")
        names = [part.strip() for part in (directive.value or "").split(",") if part.strip()]
        if directive.name == "disable" and not names:
            errors.append(
                DirectiveError(
                    "`disable` needs the rule IDs to suppress, e.g. `disable=EL201`; "
                    "`disable-file` suppresses every rule in the file",
                    directive.comment,
                )
            )
            continue
        unknown = [name for name in names if name not in spellings]
        for name in unknown:
            errors.append(
                DirectiveError(
                    f"`{name}` in `{written}` is not a rule ID or name "
                    "(see `epochlint rule --all`)",
                    directive.comment,
                )
            )
        codes = frozenset(spellings[name] for name in names if name in spellings)
        if names and not codes:
            continue  # nothing valid left to suppress; the errors above say why
        if directive.name == "disable-file":
            line = None
        elif directive.comment.own_line:
            # After the last key there is nothing to cover: EL007 then reports it as unused.
            line = _next_yaml_line(lines, directive.comment.line) or directive.comment.line + 1
        else:
            line = directive.comment.line
        suppressions.append(Suppression(directive.comment, written, codes or None, line))
    return suppressions, errors


def suppress(
    diagnostics: Iterable[Diagnostic], suppressions: list[Suppression]
) -> list[Diagnostic]:
    """The diagnostics no suppression covers; each suppression records the rules it used."""
    kept: list[Diagnostic] = []
    for diagnostic in diagnostics:
        covering = [item for item in suppressions if item.covers(diagnostic)]
        for item in covering:
            item.used.add(diagnostic.rule)
        if not covering:
            kept.append(diagnostic)
    return kept


def unused_suppressions(suppressions: list[Suppression], settings: Settings) -> list[Finding]:
    """EL007 findings: suppressions (or rule IDs in them) that covered no finding.

    A rule switched off for this run (`--select`, `--ignore`) may well fire in another run,
    so a suppression of it is not called unused.
    """
    findings: list[Finding] = []
    for item in suppressions:
        where = "in this file" if item.line is None else f"on line {item.line}"
        if item.codes is None:
            if not item.used:
                findings.append(
                    Finding(
                        f"`{item.written}` suppresses nothing: no finding {where}; remove it",
                        comment_span(item.comment),
                        facts={"unused": []},
                    )
                )
            continue
        unused = sorted(
            code for code in item.codes if code not in item.used and settings.enabled(code)
        )
        if not unused:
            continue
        what = ", ".join(unused)
        if len(unused) == len(item.codes):
            message = f"`{item.written}` suppresses nothing: no {what} finding {where}; remove it"
        else:
            message = f"`{item.written}`: no {what} finding {where}; remove {what} from it"
        findings.append(
            Finding(
                message,
                comment_span(item.comment),
                facts={"unused": unused},
            )
        )
    return findings
