"""Fixing a config: plan the fixes (planner), edit the YAML (edit, render), write it (writer)."""

from __future__ import annotations


class EditError(Exception):
    """An edit could not be applied safely; the message is a one-line reason."""
