"""Safe means safe (issue #15): a file's fixes are planned together, and a safe fix keeps the
training schedule.

The pairs test builds one config per pair of fixable rules from the rules' own fixtures
(fixtures/rules/<ID>/fail.yaml of the first, plus the keys of the second's that the first lacks)
and keeps the pairs where both rules fire on that one file.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import CORPUS, LLAMAFACTORY, settings
from test_rule_fixtures import FIXABLE, FIXTURES, header

from epochlint.cli import main
from epochlint.diagnostic import Diagnostic, Edit, Fix, Severity
from epochlint.engine import FileResult, check_source
from epochlint.fix import planner
from epochlint.fix.edit import KeyEdit, apply_edits
from epochlint.fix.planner import FixOutcome, fix_source, schedule_changes, wanted
from epochlint.reading.source import Source, decode, read_file
from epochlint.records import replace
from epochlint.settings import Settings

DEPRECATED_STRATEGY = """\
model_name_or_path: meta-llama/Llama-3.1-8B-Instruct
stage: sft
do_train: true
finetuning_type: lora
dataset: alpaca_en_demo
template: llama3
output_dir: saves/x
per_device_train_batch_size: 2
gradient_accumulation_steps: 8
learning_rate: 1.0e-4
num_train_epochs: 3.0
logging_steps: 10
save_steps: 500
val_size: 0.1
evaluation_strategy: steps
eval_steps: 50
bf16: true
# epochlint: dataset-size=10000
"""


def test_renaming_a_deprecated_strategy_keeps_the_steps_it_governs(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_text(DEPRECATED_STRATEGY)
    arguments = ["--fix", "--only-safe", str(path), "--transformers-version", "5.8.0"]
    result = CliRunner().invoke(main, arguments)
    assert path.read_text() == DEPRECATED_STRATEGY.replace(
        "evaluation_strategy: steps", "eval_strategy: steps"
    ), result.output
    fixed = check_source(read_file(str(path)), settings()).plan
    without_steps = check_source(
        decode(path.read_text().replace("eval_steps: 50\n", "").encode(), "train.yaml"),
        settings(),
    ).plan
    assert fixed is not None and without_steps is not None
    assert (fixed.eval_steps, without_steps.eval_steps) == (50, 10)  # 10: the logging cadence
    assert fixed.evaluations != without_steps.evaluations


def _with_a_mislabelled_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make EL412 (a safe fix) also set `num_train_epochs: 5`, as a buggy rule might."""
    real_check = planner.check_source

    def check(source: Source, rule_settings: Settings) -> FileResult:
        result = real_check(source, rule_settings)
        if "num_train_epochs: 3.0" in source.text:
            edit = Edit("set", "num_train_epochs", 5.0, field="num_train_epochs")
            wrong = Diagnostic(
                "EL412", "eval-steps-ignored", Severity.WARNING, "buggy", 11, 1, 11, 20,
                Fix((edit,), "safe"),
            )  # fmt: skip
            result = replace(result, diagnostics=[*result.diagnostics, wrong])
        return result

    monkeypatch.setattr(planner, "check_source", check)


def test_a_safe_fix_that_would_change_the_schedule_is_not_applied(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _with_a_mislabelled_fix(monkeypatch)
    text = DEPRECATED_STRATEGY.replace("evaluation_strategy", "eval_strategy")
    outcome = fix_source(decode(text.encode(), "train.yaml"), settings(), only_safe=True)
    assert outcome.text == text and not outcome.applied
    [(diagnostic, reason)] = outcome.failed
    assert diagnostic.message == "buggy"
    assert reason.startswith("a safe fix may not change the schedule, and it would: ")
    assert "total_steps 1689 -> 2815" in reason


# --------------------------------------------------------------------------------------
# every pair of fixable rules that can fire on one file
# --------------------------------------------------------------------------------------


def _entries(text: str) -> dict[str, str]:
    """Each top-level key's own lines (up to the next key), in order."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(root, yaml.MappingNode):
        return {}
    lines = text.splitlines(keepends=True)
    starts = [(key.value, key.start_mark.line) for key, _ in root.value]
    ends = [line for _, line in starts[1:]] + [len(lines)]
    return {key: "".join(lines[start:end]) for (key, start), end in zip(starts, ends, strict=True)}


def _directives(text: str) -> dict[str, str]:
    """`# epochlint: name=...` lines by name (the dataset size a rule's numbers rest on)."""
    found = {}
    for line in text.splitlines(keepends=True):
        if line.startswith("# epochlint:") and "=" in line:
            found[line.split(":", 1)[1].split("=", 1)[0].strip()] = line
    return found


def _with_mistake(base: str, code: str) -> str:
    """`base` with the mistake of `code`'s fail.yaml: its entries that its fix changes."""
    fail = (FIXTURES / code / "fail.yaml").read_text()
    wrong, right = _entries(fail), _entries((FIXTURES / code / "fixed.yaml").read_text())
    own = _entries(base)
    text = base.rstrip("\n") + "\n"
    for key in dict.fromkeys([*wrong, *right]):
        if wrong.get(key) == right.get(key):
            continue
        entry = wrong[key].rstrip("\n") + "\n" if key in wrong else ""
        if key in own:
            text = text.replace(own[key].rstrip("\n") + "\n", entry, 1)
        else:
            text += entry
    directives = _directives(base)
    missing = [line for name, line in _directives(fail).items() if name not in directives]
    return "".join(missing) + text


def _pair_config(first: str, second: str) -> tuple[Source, Settings] | None:
    """One config on which both rules offer a fix: one's fail.yaml with the other's mistake."""
    fail = {code: (FIXTURES / code / "fail.yaml").read_text() for code in (first, second)}
    found = {code: header(text) for code, text in fail.items()}
    for base, other in ((first, second), (second, first)):
        text = _with_mistake(fail[base], other)
        for version in dict.fromkeys((found[base].version, found[other].version)):
            rule_settings = Settings(
                select=frozenset({first, second}) | found[first].also | found[second].also,
                transformers=version,
                root=FIXTURES / base,
            )
            source = decode(text.encode(), str(FIXTURES / base / f"with-{other}.yaml"))
            fired = {d.rule for d in check_source(source, rule_settings).diagnostics if d.fix}
            if {first, second} <= fired:
                return source, rule_settings
    return None


def _errors_fixed(source: Source, rule_settings: Settings) -> FileResult:
    """The lint of `source` after the safe fixes of its errors alone, one by one: the config
    that can run, whose schedule every other safe fix must keep."""
    result = check_source(source, rule_settings)
    for _ in range(20):
        errors = [
            d
            for d in result.diagnostics
            if d.severity == Severity.ERROR and d.fix is not None and d.fix.safety == "safe"
        ]
        if not errors or errors[0].fix is None:
            return result
        edits = [KeyEdit(e.op, e.key, e.value, e.new_key) for e in errors[0].fix.edits]
        text = apply_edits(result.source.text if result.source else source.text, edits)
        result = check_source(replace(source, text=text), rule_settings)
    return result


def _problems(source: Source, rule_settings: Settings, only_safe: bool) -> list[str]:
    """What is wrong with fixing `source` (empty: all is well)."""
    outcome = fix_source(source, rule_settings, only_safe)
    problems: list[str] = []
    if outcome.refused is not None:
        return [] if not outcome.changed else ["refused, yet changed"]
    final = outcome.result
    assert final is not None
    left = {(d.rule, d.message) for d in final.diagnostics}
    failed = {(d.rule, d.message) for d, _ in outcome.failed}
    for diagnostic in outcome.applied:
        if only_safe and diagnostic.fix is not None and diagnostic.fix.safety != "safe":
            problems.append(f"{diagnostic.rule}: a suggested fix applied under --only-safe")
        if (diagnostic.rule, diagnostic.message) in left:
            problems.append(f"{diagnostic.rule}: still reported after its fix")
    for diagnostic in final.diagnostics:
        # What --fix itself would apply (an info finding's fix needs --info-fixes).
        if wanted(diagnostic, only_safe) and (diagnostic.rule, diagnostic.message) not in failed:
            problems.append(f"{diagnostic.rule}: fixable, left unfixed without a reason")
    if only_safe:
        meant = _errors_fixed(source, rule_settings)
        problems += [f"schedule changed: {c}" for c in schedule_changes(meant, final)]
    again = fix_source(replace(source, text=outcome.text), rule_settings, only_safe)
    if again.text != outcome.text:
        problems.append("a second --fix changed the file again")
    return problems


def test_every_pair_of_fixable_rules_on_one_file_is_fixed_together() -> None:
    pairs = 0
    problems: list[str] = []
    for first, second in itertools.combinations(FIXABLE, 2):
        built = _pair_config(first, second)
        if built is None:
            continue  # their fixtures cannot make both fire on one file
        pairs += 1
        for only_safe in (False, True):
            mode = "--only-safe" if only_safe else "--fix"
            problems += [f"{first}+{second} {mode}: {p}" for p in _problems(*built, only_safe)]
    assert not problems, "\n".join(problems)
    assert pairs >= 150, f"only {pairs} pairs of fixable rules fire together"


# --------------------------------------------------------------------------------------
# --only-safe over the shared corpora
# --------------------------------------------------------------------------------------


def _corpus_files() -> list[tuple[Path, Path]]:
    """(file, the folder it is checked from) for every YAML file of the shared corpora."""
    found = []
    for folder in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
        for path in sorted(folder.rglob("*")):
            if path.suffix in (".yaml", ".yml") and path.is_file():
                found.append((path, folder))
    return found


def test_only_safe_keeps_every_plan_of_the_shared_corpora(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if not LLAMAFACTORY.is_dir():
        pytest.skip(f"the shared corpus is not at {CORPUS} (set EPOCHLINT_CORPUS)")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    changed: list[FixOutcome] = []
    for path, folder in _corpus_files():
        monkeypatch.chdir(folder)  # LLaMA-Factory configs are run from its folder
        source = read_file(str(path.relative_to(folder)))
        outcome = fix_source(source, settings(), only_safe=True)
        if not outcome.changed:
            continue
        changed.append(outcome)
        before = check_source(source, settings())
        after = check_source(replace(source, text=outcome.text), settings())
        assert before.plan == after.plan, (path, schedule_changes(before, after))
    assert changed, "no corpus config got a safe fix: the comparison compared nothing"
