"""docs/rules/<ID>.md, where the language server links each finding, is the current text of
`epochlint rule <ID>` for every rule and for no other."""

from __future__ import annotations

import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))

from make_rule_docs import DOCS, pages  # noqa: E402


def test_every_rule_has_its_current_page() -> None:
    wanted = pages()
    present = {path.name: path.read_text(encoding="utf-8") for path in DOCS.glob("*.md")}
    stale = sorted(name for name in wanted if present.get(name) != wanted[name])
    extra = sorted(set(present) - set(wanted))
    assert not stale and not extra, (
        f"out of date: {stale}, no such rule: {extra}; run python scripts/make_rule_docs.py"
    )
