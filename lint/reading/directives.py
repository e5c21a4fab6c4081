"""`# epochlint: ...` comments: facts a config states about itself, and suppressions.

# epochlint: dataset-size=3000        rows of the training data as stored
# epochlint: num-gpus=4               data-parallel processes the run uses
# epochlint: disable=EL201,EL406      on a line, or alone on the line above
# epochlint: disable-file             the whole file
# epochlint: trl-trainer=grpo          the TRL trainer that reads the file (TRL configs)
# epochlint: trl-entry=cli             how a TRL config is run: cli, script or recipe
"""

from __future__ import annotations

import re

from epochlint.reading.document import Comment
from epochlint.records import record

DIRECTIVE = re.compile(r"^\s*epochlint\s*:\s*(?P<body>.*?)\s*$")
SETTING = re.compile(r"^(?P<name>[a-z-]+)\s*(?:=\s*(?P<value>.*))?$")
KNOWN = ("dataset-size", "num-gpus", "disable", "disable-file", "trl-trainer", "trl-entry")


@record(frozen=True)
class Directive:
    name: str
    value: str | None
    comment: Comment


@record(frozen=True)
class DirectiveError:
    message: str
    comment: Comment


def parse_directives(comments: list[Comment]) -> tuple[list[Directive], list[DirectiveError]]:
    directives: list[Directive] = []
    errors: list[DirectiveError] = []
    for comment in comments:
        match = DIRECTIVE.match(comment.text)
        if not match:
            continue
        for part in re.split(r"\s*;\s*|\s+(?=[a-z-]+=)", match.group("body")):
            if not part:
                continue
            setting = SETTING.match(part)
            if setting and setting.group("name") in ("dataset-size", "num-gpus"):
                directive = Directive(setting.group("name"), setting.group("value"), comment)
                if positive_count(directive) is None:
                    errors.append(
                        DirectiveError(
                            f"`{part}` needs a positive whole number, e.g. "
                            f"`{setting.group('name')}=3000`",
                            comment,
                        )
                    )
                    continue
            if setting and setting.group("name") in ("trl-trainer", "trl-entry"):
                from epochlint.dialects import trl_choices  # only for a file that says it

                allowed = trl_choices(setting.group("name"))
                if setting.group("value") not in allowed:
                    errors.append(
                        DirectiveError(
                            f"`{part}` needs one of: {', '.join(allowed)}",
                            comment,
                        )
                    )
                    continue
            if not setting or setting.group("name") not in KNOWN:
                errors.append(
                    DirectiveError(
                        f"unknown epochlint directive `{part}`; known: {', '.join(KNOWN)}",
                        comment,
                    )
                )
                continue
            directives.append(Directive(setting.group("name"), setting.group("value"), comment))
    return directives, errors


def positive_count(directive: Directive) -> int | None:
    """The value of dataset-size / num-gpus, accepting 3000, 3,000 and 3_000."""
    text = (directive.value or "").replace(",", "").replace("_", "").strip()
    if not (text.isascii() and text.isdigit()):  # not '²', which isdigit() accepts
        return None
    try:
        count = int(text)
    except ValueError:  # more digits than Python converts (4,300)
        return None
    return count if count > 0 else None
