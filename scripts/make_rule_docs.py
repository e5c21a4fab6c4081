"""Write docs/rules/<ID>.md, one page per rule: the text `epochlint rule <ID>` prints.

Run from the project root after adding or changing a rule:  python scripts/make_rule_docs.py

The language server links each finding to its rule's page (README, "In your editor"), and
tests/test_rule_docs.py checks that the pages are those of the current rules.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from epochlint.cli import main
from epochlint.rules import all_rules

DOCS = Path(__file__).resolve().parents[1] / "docs" / "rules"


def page(code: str) -> str:
    """What `epochlint rule CODE` prints."""
    result = CliRunner().invoke(main, ["rule", code])
    assert result.exit_code == 0, result.output
    return result.output


def pages() -> dict[str, str]:
    return {f"{rule.code}.md": page(rule.code) for rule in all_rules()}


def write() -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    wanted = pages()
    for stale in DOCS.glob("*.md"):
        if stale.name not in wanted:
            stale.unlink()
    for name, text in wanted.items():
        (DOCS / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(wanted)} rule pages to {DOCS}")


if __name__ == "__main__":
    write()
