"""Fixing a config: plan the fixes (planner), edit the YAML (edit, render), write it (writer)."""

from __future__ import annotations


class EditError(Exception):
    """An edit could not be applied safely; the message is a one-line reason."""


def changed_span(before: str, after: str) -> tuple[int, int, int]:
    """(start, end in `before`, end in `after`) of the one contiguous change that turns `before`
    into `after`: everything outside it is a common prefix or suffix."""
    start = 0
    limit = min(len(before), len(after))
    while start < limit and before[start] == after[start]:
        start += 1
    end_before, end_after = len(before), len(after)
    while (
        end_before > start and end_after > start and before[end_before - 1] == after[end_after - 1]
    ):
        end_before -= 1
        end_after -= 1
    return start, end_before, end_after
