"""Code actions: a finding's fix, every safe fix at once, and a suppression comment.

Each action is the whole new text of the config; the server sends the one replacement that
turns the current text into it. Fixes go through the same planner as `--fix` (placement of new
keys, verification by re-reading, refusal when the finding would remain).
"""

from __future__ import annotations

import re

from epochlint.editor import engine_api
from epochlint.editor.engine_api import Diagnostic, FileResult, Settings
from epochlint.editor.positions import LINE_BREAK
from epochlint.records import record

FIX_ALL_KIND = "source.fixAll.epochlint"
# An own-line suppression comment: `# epochlint: disable=EL201,EL406`.
OWN_LINE_DISABLE = re.compile(
    r"^(?P<indent>\s*)#\s*epochlint\s*:\s*disable\s*=\s*(?P<codes>.*?)\s*$"
)


@record(frozen=True)
class Action:
    title: str
    kind: str  # "quickfix" or FIX_ALL_KIND
    text: str  # the config's text after the action
    diagnostic: Diagnostic | None = None
    preferred: bool = False


def fix_action(result: FileResult, diagnostic: Diagnostic, settings: Settings) -> Action | None:
    if diagnostic.fix is None:
        return None
    text = engine_api.fix_one(result, diagnostic, settings)
    if text is None:
        return None
    fix = diagnostic.fix
    title = f"Fix {diagnostic.rule} ({fix.safety}): {fix.describe()}"
    return Action(title, "quickfix", text, diagnostic, preferred=fix.safety == "safe")


def fix_all_action(result: FileResult, settings: Settings) -> Action | None:
    text = engine_api.fix_all_safe(result, settings)
    if text is None:
        return None
    return Action("Fix all safe epochlint problems", FIX_ALL_KIND, text)


def _is_yaml_line(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def suppressed_text(text: str, diagnostic: Diagnostic, newline: str) -> str | None:
    """The text with a `# epochlint: disable=` comment above the finding's line (added to one
    already there), or None when the finding is not on a line of YAML."""
    lines = LINE_BREAK.split(text)
    index = diagnostic.line - 1
    if not 0 <= index < len(lines) or not _is_yaml_line(lines[index]):
        return None
    breaks = LINE_BREAK.findall(text)
    indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
    above = OWN_LINE_DISABLE.match(lines[index - 1]) if index > 0 else None
    if above is not None:
        codes = [code.strip() for code in above.group("codes").split(",") if code.strip()]
        if diagnostic.rule in codes:
            return None
        lines[index - 1] = f"{above.group('indent')}# epochlint: disable={','.join(codes)},"
        lines[index - 1] += diagnostic.rule
    else:
        lines.insert(index, f"{indent}# epochlint: disable={diagnostic.rule}")
        breaks.insert(index, newline)
    return "".join(line + (breaks[i] if i < len(breaks) else "") for i, line in enumerate(lines))


def suppress_action(
    result: FileResult, diagnostic: Diagnostic, settings: Settings
) -> Action | None:
    """ "Suppress EL201 on this line", offered only when the comment does suppress it."""
    if result.source is None:
        return None
    text = suppressed_text(result.source.text, diagnostic, result.source.newline)
    if text is None:
        return None
    after = engine_api.check_text(result.source.path, text, settings)
    if any((d.rule, d.message) == (diagnostic.rule, diagnostic.message) for d in after.diagnostics):
        return None
    return Action(f"Suppress {diagnostic.rule} on this line", "quickfix", text, diagnostic)
