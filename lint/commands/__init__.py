"""The command line: one module per command, their shared options, and the settings builder.

Nothing here imports click at package level: the console script's fast path (`entry.py`) runs
`checking.run_check` without loading click.
"""
