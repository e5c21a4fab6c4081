"""The learning-rate curve and event marks against transformers' own formulas
(lint/facts/schedule.py)."""

from __future__ import annotations

import math

import pytest
from conftest import lint

from epochlint.facts.schedule import Scheduler, curve, events
from epochlint.run import chart
from epochlint.versions import Version

WARMUP, TOTAL = 10, 110


def at(name: str, step: int, **kwargs: float) -> float:
    return Scheduler(name, dict(kwargs)).multiplier(step, WARMUP, TOTAL)


def test_linear_warms_up_then_decays_to_zero() -> None:
    assert [at("linear", s) for s in (0, 5, 10, 60, 110)] == [0.0, 0.5, 1.0, 0.5, 0.0]


def test_cosine_is_half_a_cosine_after_warmup() -> None:
    assert at("cosine", 5) == 0.5
    assert at("cosine", 10) == 1.0
    assert at("cosine", 60) == pytest.approx(0.5)
    assert at("cosine", 35) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.25)))
    assert at("cosine", 110) == pytest.approx(0.0)


def test_constant_ignores_warmup_but_constant_with_warmup_does_not() -> None:
    assert at("constant", 0) == 1.0
    assert Scheduler("constant", {}).note() is not None  # the chart says warmup is ignored
    assert [at("constant_with_warmup", s) for s in (0, 5, 10, 100)] == [0.0, 0.5, 1.0, 1.0]


def test_cosine_with_restarts_starts_over() -> None:
    assert at("cosine_with_restarts", 60, num_cycles=2) == pytest.approx(1.0)
    assert at("cosine_with_restarts", 35, num_cycles=2) == pytest.approx(0.5)


def test_approximated_schedulers_say_so() -> None:
    for name in ("polynomial", "reduce_lr_on_plateau", "warmup_stable_decay"):
        scheduler = Scheduler(name, {})
        note = scheduler.note()
        assert not scheduler.exact and note is not None and "approximate" in note


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("linear", {}),
        ("cosine", {}),
        ("constant", {}),
        ("constant_with_warmup", {}),
        ("cosine_with_restarts", {"num_cycles": 3}),
        ("inverse_sqrt", {}),
        ("cosine_with_min_lr", {"min_lr_rate": 0.1}),
    ],
)
def test_exact_schedulers_match_the_installed_transformers(
    name: str, kwargs: dict[str, float]
) -> None:
    torch = pytest.importorskip("torch")
    optimization = pytest.importorskip("transformers.optimization")
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    real = optimization.get_scheduler(
        name,
        optimizer,
        num_warmup_steps=WARMUP,
        num_training_steps=TOTAL,
        scheduler_specific_kwargs=kwargs or None,
    )
    ours = Scheduler(name, dict(kwargs))
    assert ours.exact
    for step in range(TOTAL):
        assert real.get_last_lr()[0] == pytest.approx(ours.multiplier(step, WARMUP, TOTAL)), step
        optimizer.step()
        real.step()


def test_curve_samples_both_ends() -> None:
    points = curve(Scheduler("linear", {}), 1e-4, WARMUP, TOTAL, 12)
    assert points[0] == (0, 0.0) and points[-1] == (TOTAL, 0.0)
    assert max(value for _, value in points) == pytest.approx(1e-4)


def config(**keys: object) -> str:
    base = {"do_train": "true", "dataset": "data", "bf16": "true", "learning_rate": "1.0e-4"}
    base.update({key: str(value) for key, value in keys.items()})
    return "".join(f"{key}: {value}\n" for key, value in base.items())


@pytest.mark.parametrize(
    "keys",
    [
        {"eval_strategy": "steps", "eval_steps": 40, "val_size": 0.1, "save_steps": 30},
        {"eval_strategy": "epoch", "save_strategy": "epoch", "val_size": 0.1},
        {"num_train_epochs": 2.5, "save_steps": 0.25, "logging_steps": 7},
        {"max_steps": 333, "eval_strategy": "steps", "eval_steps": 100, "val_size": 0.1},
    ],
)
def test_event_marks_agree_with_the_plan_counts(keys: dict[str, object]) -> None:
    result = lint(config(**keys), dataset_size=1000)
    assert result.plan is not None and result.config is not None
    found = events(result.config, result.plan, Version(5, 8, 0))
    assert found is not None
    assert len(found.evaluations) == result.plan.evaluations
    assert len(found.checkpoints) == result.plan.checkpoints
    assert len(found.logs) == result.plan.log_points
    assert found.epoch_ends[-1] == result.plan.total_steps


def test_end_evaluation_only_from_transformers_5_4() -> None:
    text = config(eval_strategy="steps", eval_steps=40, val_size=0.1, num_train_epochs=1)
    result = lint(text, dataset_size=1000)  # 900 rows / 8 = 113 steps: evals at 40, 80 (+113)
    assert result.plan is not None and result.config is not None
    new = events(result.config, result.plan, Version(5, 4, 0))
    old = events(result.config, result.plan, Version(4, 57, 6))
    assert new is not None and old is not None
    assert new.evaluations == (40, 80, 113) and old.evaluations == (40, 80)


def test_chart_draws_the_warmup_ramp_and_the_marks() -> None:
    scheduler = Scheduler("constant_with_warmup", {})
    rows = chart.curve_rows(scheduler, 30, 60, width=60, height=4)
    assert rows[0][:20].strip() == ""  # two thirds into the warmup: below the top row
    assert set(rows[0][35:]) == {"█"}  # at the peak afterwards
    ascii_rows = chart.curve_rows(scheduler, 30, 60, width=60, height=4, ascii_only=True)
    assert set("".join(ascii_rows)) <= {"#", ".", " "}
    assert chart.lane((1, 30, 60), 60, "E", 60) == " E" + " " * 28 + "E" + " " * 28 + "E"
