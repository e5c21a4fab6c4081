"""Check one config: read it, work out its facts once, run the rules, collect diagnostics."""

from __future__ import annotations

import gc
import sys
from functools import cache

from epochlint.diagnostic import Diagnostic, Severity
from epochlint.dialects import default, detect
from epochlint.dialects.base import TrainingConfig
from epochlint.facts.context import Context
from epochlint.facts.dataset import Rows, dataset_rows, world_size
from epochlint.facts.schedule import Plan, build_plan
from epochlint.reading.directives import parse_directives
from epochlint.reading.document import Document, DocumentError, Span, parse, reread
from epochlint.reading.source import (
    MAX_CONFIG_BYTES,
    Source,
    SourceError,
    UnreadablePath,
    decode,
    read_file,
)
from epochlint.records import field, record, replace
from epochlint.rules import Finding, Rule, all_rules, get_rule
from epochlint.settings import Settings, SettingsError, rule_enabled
from epochlint.suppress import read_suppressions, suppress, unused_suppressions

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs 3.5 ms a run
if TYPE_CHECKING:
    from epochlint.facts.dataset import Resolution


# Exit statuses: no error or warning; at least one; epochlint could not do its job.
EXIT_CLEAN, EXIT_FINDINGS, EXIT_FAILURE = 0, 1, 2
# Files checked between two freezes of the objects alive (see check_files).
FILES_PER_FREEZE = 100


@record
class FileResult:
    path: str
    source: Source | None = None
    document: Document | None = None
    config: TrainingConfig | None = None
    dialect: str | None = None
    plan: Plan | None = None
    rows: Rows | None = None
    datasets: Resolution | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    error: str | None = None  # the file could not be checked at all (missing, a directory)
    skipped: str | None = None  # not a training config (launcher, inference, ...): why
    world_size_source: str | None = None  # where the plan's process count came from

    def count(self, severity: Severity) -> int:
        return sum(1 for diagnostic in self.diagnostics if diagnostic.severity == severity)


def diagnostic(rule: Rule, finding: Finding, settings: Settings) -> Diagnostic:
    span = finding.span
    severity = settings.severities.get(rule.code) or finding.severity or rule.severity
    fix = finding.fix if rule.code not in settings.unfixable else None
    if span is None:
        position = (1, 1, 1, 1)
    else:
        position = (span.line, span.column, span.end_line, span.end_column)
    # One line per finding is what concise, GitHub and editor integrations parse; a quoted
    # multi-line value (a block scalar) must not break it.
    message = finding.message.replace("\r", "\\r").replace("\n", "\\n")
    return Diagnostic(
        rule.code, rule.name, severity, message, *position, fix=fix, facts=finding.facts
    )


def _fatal(code: str, message: str, line: int, column: int, settings: Settings) -> Diagnostic:
    rule = get_rule(code)
    assert rule is not None
    span = Span(0, 0, line, column, line, column)
    return diagnostic(rule, Finding(message, span), settings)


def check_files(
    per_path: list[tuple[str, Settings]], stdin_name: str | None = None
) -> list[FileResult]:
    """Each file's result, in order ("-" is standard input, reported as `stdin_name`).

    Every result is kept for the report. Left alone, Python's cyclic garbage collector walks
    all of them again at each full collection, and a run of 1,000 configs slowed down as it
    went (the 500 files after the first 500 cost 1.35 times as much). So every hundred files
    the objects alive are frozen out of the collector's sight. Checking a file leaves no
    cyclic garbage (a collection before freezing found none in the whole shared corpus, and
    took 5 to 10 ms each time), so freezing alone keeps nothing alive that would be freed.
    """
    results: list[FileResult] = []
    frozen = False
    try:
        for index, (path, settings) in enumerate(per_path, 1):
            results.append(check_file(path, settings, stdin_name))
            if index % FILES_PER_FREEZE == 0:
                gc.freeze()
                frozen = True
    finally:
        if frozen:
            gc.unfreeze()
    return results


def check_file(path: str, settings: Settings, stdin_name: str | None = None) -> FileResult:
    """One file's result; a failure inside epochlint becomes that file's error instead of
    hiding the other files' results."""
    shown = (stdin_name or "<stdin>") if path == "-" else path
    try:
        if path == "-":
            # One byte past the limit is enough to refuse it: `epochlint - < /dev/zero` ends.
            return check_bytes(sys.stdin.buffer.read(MAX_CONFIG_BYTES + 1), shown, settings)
        return check_path(path, settings)
    except (SettingsError, RecursionError, MemoryError) as error:
        return FileResult(shown, error=str(error) or type(error).__name__)
    except Exception as error:  # a bug in epochlint
        message = f"internal error, please report it: {type(error).__name__}: {error}"
        return FileResult(shown, error=message)


def check_path(path: str, settings: Settings) -> FileResult:
    try:
        source = read_file(path)
    except UnreadablePath as error:
        return FileResult(path, error=error.message)
    except SourceError as error:
        return undecodable(path, error, settings)
    return check_source(source, settings)


def check_bytes(data: bytes, path: str, settings: Settings) -> FileResult:
    """Check a config given as bytes (standard input), reported under `path`."""
    try:
        source = decode(data, path)
    except SourceError as error:
        return undecodable(path, error, settings)
    return check_source(source, settings)


def undecodable(path: str, error: SourceError, settings: Settings) -> FileResult:
    """The result for a file that is not UTF-8 text: its EL001 finding, if enabled."""
    result = FileResult(path)
    if settings.enabled("EL001"):
        result.diagnostics.append(
            _fatal("EL001", error.message, error.line, error.column, settings)
        )
    return result


@cache  # a run has one selection, or a few: not 44 tests for every file
def enabled_rules(select: frozenset[str] | None, ignore: frozenset[str]) -> tuple[Rule, ...]:
    """The rules that run under a selection and ignored prefixes, in ID order."""
    return tuple(rule for rule in all_rules() if rule_enabled(rule.code, select, ignore))


def check_source(source: Source, settings: Settings) -> FileResult:
    result = FileResult(source.path, source=source)
    try:
        document = parse(source, default().loader)
    except DocumentError as error:
        if settings.enabled(error.code):
            result.diagnostics.append(
                _fatal(error.code, error.message, error.line, error.column, settings)
            )
        return result
    detection = detect(document, settings.dialect)
    if detection.dialect is None:
        # Not a training config, but what breaks every YAML loader is still worth saying.
        document.root = None  # kept only to re-read the nodes, which a skipped file never does
        result.document, result.skipped = document, detection.skipped
        result.diagnostics = _reading_problems(document, settings)
        return result
    dialect = detection.dialect
    if dialect.loader != document.loader:
        document = reread(document, dialect.loader)  # same structure, values as this trainer reads
    # The nodes were kept only for that re-read; a run over many files keeps every document.
    document.root = None
    config = dialect.make(document)
    # A directive is a `# epochlint: ...` comment: a text without that word has none, and its
    # comments need not be found at all.
    if "epochlint" in source.text:
        directives, directive_errors = parse_directives(document.comments)
    else:
        directives, directive_errors = [], []
    suppressions, suppression_errors = read_suppressions(directives, source.text)
    directive_errors += suppression_errors
    config.settle(settings, directives)
    processes, processes_source = world_size(settings, directives, config)
    if (processes, processes_source) != (settings.world_size, settings.world_size_source):
        settings = replace(settings, world_size=processes, world_size_source=processes_source)
    rows, resolution = dataset_rows(config, directives, settings)
    plan = build_plan(config, rows, settings.world_size, settings.transformers)
    context = Context(document, config, plan, rows, settings, resolution, tuple(directive_errors))
    result.document, result.config, result.dialect = document, config, dialect.name
    result.plan, result.rows, result.datasets = plan, rows, resolution
    result.world_size_source = settings.world_size_source

    found: list[Diagnostic] = []
    for rule in enabled_rules(settings.select, settings.ignore):
        found.extend(diagnostic(rule, finding, settings) for finding in rule.check(context))
    found = suppress(found, suppressions)
    unused_rule = get_rule("EL007")
    if unused_rule is not None and settings.enabled(unused_rule.code):
        found.extend(
            diagnostic(unused_rule, finding, settings)
            for finding in unused_suppressions(suppressions, settings)
        )
    result.diagnostics = sorted(found, key=lambda d: (d.line, d.column, d.rule))
    return result


def _reading_problems(document: Document, settings: Settings) -> list[Diagnostic]:
    found = []
    for problem in document.problems:
        rule = get_rule(problem.code)
        if rule is not None and settings.enabled(rule.code):
            found.append(diagnostic(rule, Finding(problem.message, problem.span), settings))
    return found


def exit_code(results: list[FileResult]) -> int:
    if any(result.error is not None for result in results):
        return EXIT_FAILURE
    serious = (Severity.ERROR, Severity.WARNING)
    if any(d.severity in serious for result in results for d in result.diagnostics):
        return EXIT_FINDINGS
    return EXIT_CLEAN
