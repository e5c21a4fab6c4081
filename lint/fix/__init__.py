"""Fixing a config: plan the fixes (planner), edit the YAML text (edit), write the file (writer)."""
