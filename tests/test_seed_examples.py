"""Worked examples of typical configs give exactly the findings the rules' `## Source` sections
and the README's guideline tables call for."""

from __future__ import annotations

from conftest import lint, only, rules_of

from epochlint.diagnostic import Edit, Severity


def train(**keys: object) -> str:
    base: dict[str, object] = {
        "model_name_or_path": "meta-llama/Llama-3.1-8B-Instruct",
        "stage": "sft",
        "do_train": "true",
        "finetuning_type": "lora",
        "dataset": "my_data",
        "bf16": "true",
        "logging_steps": 10,
    }
    base.update(keys)
    return "".join(f"{key}: {value}\n" for key, value in base.items())


def edits(diagnostic) -> tuple[Edit, ...]:  # type: ignore[no-untyped-def]
    assert diagnostic.fix is not None, diagnostic
    return diagnostic.fix.edits


def test_mistake_1_twenty_epochs_on_1000_rows() -> None:
    result = lint(train(num_train_epochs=20, learning_rate="1.0e-4"), dataset_size=1000)
    too_many = only(result, "EL201")
    assert too_many.severity == Severity.WARNING  # far above even the tolerated 2-6
    assert (
        "`num_train_epochs: 20` is above the 2-6 epochs that even published recipes use for "
        "LoRA on 1,000 rows (medium)" in too_many.message
    )
    assert "use 5 (the guide recommends 3-5)" in too_many.message
    assert "2,500 steps" in too_many.message  # 125 per epoch at the default batch 8
    assert edits(too_many) == (Edit("set", "num_train_epochs", 5, field="num_train_epochs"),)
    assert too_many.fix is not None and too_many.fix.safety == "suggested"
    assert "EL406" in rules_of(result)


def test_mistake_2_one_epoch_on_50000_rows_with_a_full_finetuning_rate() -> None:
    result = lint(train(num_train_epochs=1, learning_rate="1.0e-5"), dataset_size=50_000)
    # 1 epoch on 50,000 rows is what Zephyr, Unsloth and Axolotl train: info, not a warning.
    too_few = only(result, "EL202")
    assert too_few.severity == Severity.INFO
    assert too_few.message == (
        "`num_train_epochs: 1` is below the 2-3 epochs the guide recommends for LoRA on 50,000 "
        "rows (large); 1-3 is common in published recipes; use 2"
    )
    assert edits(too_few) == (Edit("set", "num_train_epochs", 2, field="num_train_epochs"),)
    rate = only(result, "EL301")
    assert (
        "`learning_rate: 1.0e-5` is below the 2.0e-5-5.0e-4 range for LoRA (typical 1.0e-4)"
        in rate.message
    )
    assert edits(rate) == (Edit("set", "learning_rate", 1e-4, field="learning_rate"),)


def test_mistake_3_batch_of_one_explodes_the_steps() -> None:
    text = train(
        per_device_train_batch_size=1,
        gradient_accumulation_steps=1,
        num_train_epochs=2,
        learning_rate="1.0e-4",
    )
    result = lint(text, dataset_size=10_000)
    assert result.plan is not None and result.plan.total_steps == 20_000
    explosion = only(result, "EL204")
    assert (
        "effective batch 1" in explosion.message and "20,000 optimizer steps" in explosion.message
    )
    assert (
        "`gradient_accumulation_steps: 16` gives an effective batch of 16 and 1,250 steps"
        in explosion.message
    )
    assert edits(explosion) == (
        Edit("set", "gradient_accumulation_steps", 16, field="gradient_accumulation_steps"),
    )
    assert explosion.facts["new_total_steps"] == 1250
    too_few = only(result, "EL202")
    assert too_few.severity == Severity.INFO  # 2 epochs on 10,000 rows: tolerated (2-6)
    assert "`num_train_epochs: 2` is below the 3-5 epochs the guide recommends" in too_few.message


def test_chatbot_overfit() -> None:
    text = train(num_train_epochs=10, per_device_train_batch_size=2, learning_rate="1.0e-4")
    result = lint(text, dataset_size=3000)
    too_many = only(result, "EL201")
    assert (
        "above the 2-6 epochs that even published recipes use for LoRA on 3,000 rows (medium): "
        "15,000 steps" in too_many.message
    )
    assert "enable early stopping (EL406)" in too_many.message
    assert edits(too_many)[0].value == 5
    assert "EL406" in rules_of(result)


def test_chatbot_success_with_the_guides_invented_key() -> None:
    text = train(
        num_train_epochs=4,
        per_device_train_batch_size=4,
        gradient_accumulation_steps=2,
        learning_rate="1.0e-4",
        early_stopping_patience=2,
    )
    result = lint(text, dataset_size=3000)
    assert result.plan is not None
    assert (result.plan.steps_per_epoch, result.plan.total_steps) == (375, 1500)
    unknown = only(result, "EL101")
    assert "did you mean `early_stopping_steps`" in unknown.message
    assert edits(unknown) == (
        Edit("rename", "early_stopping_patience", new_key="early_stopping_steps"),
    )
    # Renamed, it is a real key, and evaluation is still missing.
    renamed = lint(
        text.replace("early_stopping_patience", "early_stopping_steps"), dataset_size=3000
    )
    assert {"EL401", "EL405"} <= set(rules_of(renamed))
    assert "EL101" not in rules_of(renamed)


def test_summariser_a_b_c() -> None:
    def summariser(epochs: int) -> list[str]:
        text = train(num_train_epochs=epochs, per_device_train_batch_size=8, learning_rate="3.0e-5")
        return rules_of(lint(text, dataset_size=25_000))

    assert summariser(1) == ["EL202"]
    assert summariser(3) == []
    assert summariser(8) == ["EL201"]


def test_prototyping_with_max_steps_is_not_undertraining() -> None:
    text = train(
        max_steps=200, per_device_train_batch_size=4, max_samples=1000, learning_rate="1.0e-4"
    )
    result = lint(text, dataset_size=1000)
    assert result.plan is not None and result.plan.epochs is not None
    assert round(result.plan.epochs, 3) == 0.8
    assert "EL202" not in rules_of(result)
    assert "EL201" not in rules_of(result)


def test_qlora_example_uses_a_method_that_does_not_exist() -> None:
    result = lint(
        train(finetuning_type="qlora", quantization_bit=4, learning_rate="2.0e-4"),
        dataset_size=3000,
    )
    invalid = only(result, "EL103")
    assert "`finetuning_type: qlora` is not a LLaMA-Factory method" in invalid.message
    assert edits(invalid) == (Edit("set", "finetuning_type", "lora"),)
    assert invalid.fix is not None and invalid.fix.safety == "safe"


def test_qlora_fix_adds_quantization_when_missing() -> None:
    result = lint(train(finetuning_type="qlora"), dataset_size=3000)
    assert edits(only(result, "EL103")) == (
        Edit("set", "finetuning_type", "lora"),
        Edit("set", "quantization_bit", 4),
    )
