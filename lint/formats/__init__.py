"""Reporters: each turns the results of a run into text for one audience."""
