"""The TRL dialect: detection, the trainer, keys by TRL version and entry point, TRL's own
checks, its defaults, N and the GRPO schedule (README "TRL configs")."""

from __future__ import annotations

from pathlib import Path

from conftest import lint, only, rules_of

from epochlint.engine import check_source
from epochlint.fix.planner import fix_source
from epochlint.reading.source import decode
from epochlint.versions import Version

SFT = """\
model_name_or_path: Qwen/Qwen2.5-0.5B
dataset_name: trl-lib/Capybara
dataset_text_field: text
learning_rate: 2.0e-5
num_train_epochs: 1
per_device_train_batch_size: 8
output_dir: out
"""
GRPO = """\
model_name_or_path: Qwen/Qwen2.5-0.5B
dataset_name: trl-lib/DeepMath-103K
reward_funcs: [accuracy_reward]
per_device_train_batch_size: 8
gradient_accumulation_steps: 4
num_generations: 16
num_train_epochs: 1
output_dir: out
"""


def test_trl_keys_make_a_trl_config_and_the_report_says_which_trainer_was_assumed() -> None:
    result = lint(SFT)
    assert result.dialect == "trl"
    assert result.config is not None
    assert result.config.title == "TRL SFT"
    assert result.config.assumption == "trainer `sft` from `dataset_text_field`"
    grpo = lint(GRPO)
    assert grpo.config is not None and grpo.config.stage == "grpo"
    assert grpo.config.assumption == (
        "trainer `grpo` assumed from `num_generations` and `reward_funcs` (the keys also fit RLOO)"
    )


def test_ambiguous_keys_name_the_other_trainers_and_a_directive_settles_it() -> None:
    text = "model_name_or_path: m\ndataset_name: d\nbeta: 0.1\nnum_train_epochs: 1\n"
    result = lint(text)
    assert result.config is not None and result.config.title == "TRL DPO"
    assert result.config.assumption is not None
    assert result.config.assumption == (
        "trainer `dpo` assumed from `beta` (the keys also fit GRPO, KTO, RLOO)"
    )
    settled = lint("# epochlint: trl-trainer=kto\n" + text)
    assert settled.config is not None and settled.config.title == "TRL KTO"
    assert settled.config.assumption == "trainer `kto` from the directive"
    configured = lint(text, trl_trainer="grpo")
    assert configured.config is not None and configured.config.stage == "grpo"
    bad = lint("# epochlint: trl-trainer=sftt\n" + text)
    assert "needs one of: sft, dpo" in only(bad, "EL006").message


def test_dialect_trl_forces_the_dialect_and_llamafactory_keys_win() -> None:
    assert lint("learning_rate: 1.0e-5\nnum_train_epochs: 1\n", dialect="trl").dialect == "trl"
    llamafactory = "stage: sft\ndataset: alpaca\nlora_r: 8\nnum_train_epochs: 1\n"
    assert lint(llamafactory).dialect == "llamafactory"


def test_a_key_trl_does_not_know_is_a_warning_an_error_only_for_the_cli() -> None:
    text = SFT + "num_train_epoch: 2\n"
    warning = only(lint(text), "EL101")
    assert warning.severity.value == "warning"
    assert "TRL's SFT scripts ignore it" in warning.message
    assert "did you mean `num_train_epochs`?" in warning.message
    assert (warning.line, warning.column) == (8, 1)
    cli = only(lint(text, trl_entry="cli"), "EL101")
    assert cli.severity.value == "error"
    assert (
        "`Accelerate launch command: error: unrecognized arguments: --num_train_epoch`"
        in cli.message
    )
    recipe = only(lint(text, trl_entry="recipe"), "EL101")
    assert recipe.severity.value == "error"
    assert "`ValueError: Unknown arguments from config file: ['--num_train_epoch', ...]`" in (
        recipe.message
    )
    script = only(lint(text, trl_entry="script"), "EL101")
    assert script.severity.value == "warning" and "TRL's sft script ignores it" in script.message
    # trl <command> hands accelerate's own options to `accelerate launch`.
    assert "EL101" not in rules_of(lint(SFT + "num_processes: 4\n", trl_entry="cli"))
    # a field of alignment-handbook's own dataclasses
    assert "EL101" not in rules_of(lint(SFT + "chat_template: '{{ messages }}'\n"))


def test_a_key_of_another_trainer_is_unknown_to_the_one_assumed() -> None:
    finding = only(lint("# epochlint: trl-trainer=sft\n" + GRPO), "EL101")
    assert "`num_generations`" in finding.message and "(a GRPO field)" in finding.message


def test_renamed_keys_follow_the_trl_version() -> None:
    text = SFT + "max_seq_length: 2048\n"
    old = lint(text, trl=Version(0, 19, 1))
    deprecated = only(old, "EL104")
    assert deprecated.severity.value == "warning"
    assert deprecated.message == "`max_seq_length` is deprecated in TRL 0.19.1; use `max_length`"
    removed = only(lint(text, trl=Version(1, 10)), "EL104")
    assert removed.message.startswith("`max_seq_length` was removed in TRL 0.20.0; with 1.10.0 ")
    assert removed.fix is not None and removed.fix.safety == "safe"
    assert only(lint(text, trl=Version(1, 10), trl_entry="cli"), "EL104").severity.value == "error"
    assert "EL104" not in rules_of(lint(text, trl=Version(0, 15)))


def test_fixes_write_trl_s_own_key_names() -> None:
    text = SFT + "max_seq_length: 2048\n"
    outcome = fix_source(decode(text.encode(), "sft.yaml"), _settings(trl=Version(1, 10)))
    assert outcome.text.endswith("max_length: 2048\n")
    assert "max_seq_length" not in outcome.text


def test_packing_strategy_values_by_trl_version() -> None:
    text = SFT + "packing: true\npacking_strategy: ffd\n"
    assert "EL106" not in rules_of(lint(text, trl=Version(0, 19, 1)))
    removed = only(lint(text, trl=Version(1, 10)), "EL106")
    assert removed.severity.value == "error"
    assert "Invalid packing strategy 'ffd'" in removed.message
    assert removed.fix is not None and removed.fix.edits[0].value == "bfd"
    requeue = only(lint(SFT + "packing: true\npacking_strategy: bfd-requeue\n"), "EL106")
    assert requeue.severity.value == "warning" and "EL103" not in rules_of(lint(SFT))


def test_a_float_written_1e_4_is_converted_by_trl_so_it_is_not_a_trap() -> None:
    result = lint(SFT.replace("2.0e-5", "1e-4"))
    assert not {"EL005", "EL102"} & set(rules_of(result))
    assert result.config is not None and result.config.number("learning_rate") == 1e-4
    # a YAML 1.1 boolean is still read as one
    assert "EL005" in rules_of(lint(SFT + "save_strategy: no\n"))


def test_trl_defaults_differ_from_transformers() -> None:
    dpo = lint("model_name_or_path: m\ndataset_name: d\nbeta: 0.1\n")
    assert dpo.config is not None
    assert dpo.config.value("learning_rate") == 1e-6
    assert dpo.config.value("logging_steps") == 10
    assert dpo.config.value("gradient_checkpointing") is True
    assert dpo.config.value("bf16") is True
    fp16 = lint("model_name_or_path: m\ndataset_name: d\nbeta: 0.1\nfp16: true\n")
    assert fp16.config is not None and fp16.config.value("bf16") is False
    sft = lint(SFT.replace("learning_rate: 2.0e-5\n", ""))
    assert sft.config is not None and sft.config.value("learning_rate") == 2e-5


def test_the_method_comes_from_use_peft_and_quantization() -> None:
    def method(extra: str) -> str:
        config = lint(SFT + extra).config
        assert config is not None
        return config.method

    assert method("") == "full"
    assert method("use_peft: true\nlora_r: 16\n") == "lora"
    assert method("use_peft: true\nload_in_4bit: true\n") == "qlora"
    assert method("lora_r: 16\n") == "full"  # TRL ignores the LoRA keys without use_peft


def test_grpo_steps_follow_trl_s_sampler() -> None:
    # 8 processes x 8 completions x 4 accumulation = 256 completions = 16 prompts per step.
    result = lint("# epochlint: dataset-size=1000\n" + GRPO, world_size=8)
    assert result.plan is not None
    assert result.plan.batches_per_epoch == 248  # floor(1000 / 16) x 1 x 4
    assert result.plan.steps_per_epoch == 62
    assert result.plan.total_steps == 62
    # Trainer's formula would give ceil(1000 / 256) = 4 steps.


def test_grpo_batches_trl_refuses() -> None:
    text = GRPO.replace("num_generations: 16", "num_generations: 3")
    finding = only(lint(text, world_size_source="--num-gpus"), "EL105")
    assert finding.message == (
        "TRL stops with: generation_batch_size (32) must be divisible by num_generations (3). "
        "(GRPOConfig)"
    )
    assert finding.severity.value == "error"
    assert (finding.line, finding.column) == (6, 1)
    # With the process count left to its default, 3 processes would make it divisible.
    assumed = only(lint(text), "EL105")
    assert assumed.severity.value == "warning"
    assert "That is with one process, epochlint's default: pass --num-gpus N" in assumed.message
    rloo = only(lint("# epochlint: trl-trainer=rloo\n" + GRPO.replace("16", "1")), "EL105")
    assert rloo.message.startswith("TRL stops with: RLOO requires at least 2 generations per")
    both = only(lint(GRPO + "steps_per_generation: 2\ngeneration_batch_size: 64\n"), "EL105")
    assert "can not be both configured" in both.message
    string = only(lint(GRPO.replace("[accuracy_reward]", "accuracy_reward")), "EL105")
    assert "Could not load reward function 'a'" in string.message


def test_num_processes_is_the_process_count_a_trl_cli_run_launches() -> None:
    # `trl sft --config` hands `num_processes: 4` to `accelerate launch` (TRL's clis.md).
    text = SFT + "gradient_accumulation_steps: 2\nnum_processes: 4\n"
    result = lint(text, dataset_size=6400, dataset_size_source="--dataset-size")
    assert result.plan is not None and result.world_size_source == "num_processes"
    assert (result.plan.world_size, result.plan.effective_batch) == (4, 64)  # 8 x 2 x 4
    assert result.plan.total_steps == 100  # 6,400 rows / 64
    assert "EL101" not in rules_of(result)  # an accelerate launch option, not an unknown key
    # An option or a comment wins over the file; a configuration file's num-gpus does not.
    for overrides, expected in [
        ({"world_size": 8, "world_size_source": "--num-gpus"}, (8, "--num-gpus")),
        ({"world_size": 2, "world_size_source": "pyproject.toml"}, (4, "num_processes")),
    ]:
        found = lint(text, **overrides)
        assert found.plan is not None
        assert (found.plan.world_size, found.world_size_source) == expected
    commented = lint("# epochlint: num-gpus=2\n" + text)
    assert commented.plan is not None
    assert (commented.plan.world_size, commented.world_size_source) == (2, "comment")
    # The scripts and recipes never read it: one process, as the default says.
    script = lint("# epochlint: trl-entry=script\n" + text)
    assert script.plan is not None and script.plan.world_size == 1
    assert script.world_size_source == "default"


def test_num_processes_settles_what_grpo_refuses() -> None:
    # 8 per device x 4 processes x 4 accumulation = 128 generations: divisible by 16, but 8 x 1
    # x 4 = 32 with 3 processes... with `num_processes: 3` the real batch (96) is checked.
    text = GRPO.replace("num_generations: 16", "num_generations: 64") + "num_processes: 3\n"
    finding = only(lint(text), "EL105")
    assert finding.severity.value == "error"  # the process count is known, not assumed
    assert finding.message == (
        "TRL stops with: generation_batch_size (96) must be divisible by num_generations (64). "
        "(GRPOConfig)"
    )
    assert "EL105" not in rules_of(lint(text.replace("num_processes: 3", "num_processes: 2")))


def test_a_loss_type_outside_the_trainers_own_choices_is_el103() -> None:
    kto = "# epochlint: trl-trainer=kto\nmodel_name_or_path: m\ndataset_name: d\nloss_type: {}\n"
    finding = only(lint(kto.format("sigmoid")), "EL103")
    assert finding.message == (
        "`loss_type: sigmoid` is not one of TRL KTO's: kto, apo_zero_unpaired; nothing checks it "
        "when the config is read, and the trainer stops at its first training step, after the "
        "model has loaded"
    )
    assert (finding.line, finding.column, finding.severity.value) == (4, 12, "error")
    assert finding.fix is None  # no close spelling
    close = only(lint(kto.format("kt")), "EL103")
    assert close.message.endswith("; did you mean `kto`?")
    assert close.fix is not None and close.fix.safety == "suggested"
    assert close.fix.describe() == "set `loss_type: kto`"
    assert "EL103" not in rules_of(lint(kto.format("apo_zero_unpaired")))
    # DPO's loss_type is a list of loss names with no fixed choices; CPO has its own.
    assert "EL103" not in rules_of(lint(kto.format("sigmoid").replace("=kto", "=dpo")))
    assert "EL103" not in rules_of(lint(kto.format("hinge").replace("=kto", "=cpo")))


def test_other_trl_checks() -> None:
    quantized = only(lint(SFT + "load_in_4bit: true\nload_in_8bit: true\n"), "EL105")
    assert quantized.message == (
        "TRL stops with: You can't use 8 bit and 4 bit precision at the same time (ModelConfig)"
    )
    kto = only(lint("# epochlint: trl-trainer=kto\n" + SFT.replace(": 8\n", ": 1\n")), "EL105")
    assert "Actual (not effective) batch size must be > 1." in kto.message
    flag = only(lint(SFT + "multi_gpu: true\n", trl_entry="cli"), "EL105")
    assert "accelerate takes `True` for the training script" in flag.message
    named = only(lint(SFT + "accelerate_config: zero4\n", trl_entry="cli"), "EL105")
    assert "Accelerate config zero4 is neither a file nor a valid" in named.message
    assert rules_of(lint(SFT + "accelerate_config: zero3\n", trl_entry="cli")) == ["EL501"]
    # Unset, the key says the file is run by `trl <command>`, the one entry point that reads it.
    unset = only(lint(SFT + "accelerate_config: zero4\n"), "EL105")
    assert (unset.message, unset.severity.value) == (named.message, "error")
    assert (unset.line, unset.column) == (8, 1)
    assert rules_of(lint(SFT + "accelerate_config: zero3\n")) == ["EL501"]
    ignored = only(lint(SFT + "accelerate_config: zero4\n", trl_entry="script"), "EL101")
    assert ignored.severity.value == "warning"  # TRL's scripts ignore it
    packing = only(lint(SFT + "packing: true\nmax_length: null\n"), "EL105")
    assert "When packing is enabled, `max_length` can't be `None`. (SFTTrainer)" in packing.message
    mixture = only(lint(SFT + "datasets:\n  - path: a\n    weight: 2\n"), "EL105")
    assert "unexpected keyword argument 'weight'" in mixture.message
    no_data = only(lint(SFT.replace("dataset_name: trl-lib/Capybara\n", "")), "EL105")
    assert "Either `datasets` or `dataset_name` must be provided." in no_data.message
    streamed = only(lint(SFT + "dataset_streaming: true\n"), "EL105")
    assert "args.max_steps must be set to a positive value" in streamed.message
    assert "EL105" not in rules_of(lint(SFT + "dataset_streaming: true\nmax_steps: 100\n"))


def test_n_from_a_local_dataset_name_and_a_local_mixture(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"text": "x"}\n' * 30)
    (tmp_path / "b.jsonl").write_text('{"text": "y"}\n' * 12)
    local = lint(SFT.replace("trl-lib/Capybara", "a.jsonl"), root=tmp_path)
    assert local.plan is not None and local.plan.dataset_rows == 30
    mixture = (
        SFT.replace("dataset_name: trl-lib/Capybara\n", "")
        + "dataset_mixture:\n  datasets:\n    - id: a.jsonl\n    - id: b.jsonl\n"
    )
    summed = lint(mixture, root=tmp_path)
    assert summed.plan is not None and summed.plan.dataset_rows == 42
    (tmp_path / "pairs.jsonl").write_text('{"prompt": "p", "chosen": "a", "rejected": "b"}\n' * 5)
    kto = lint(
        "# epochlint: trl-trainer=kto\n" + SFT.replace("trl-lib/Capybara", "pairs.jsonl"),
        root=tmp_path,
    )
    assert kto.plan is not None and kto.plan.dataset_rows == 10  # unpaired: two rows a pair
    hub = lint(SFT, root=tmp_path)
    assert hub.plan is not None and hub.plan.dataset_rows is None
    assert "comes from the Hugging Face hub" in only(hub, "EL501").message


def _settings(**overrides: object):  # type: ignore[no-untyped-def]
    from conftest import settings

    return settings(**overrides)


def test_the_engine_reads_a_trl_file_from_disk_by_its_folder(tmp_path: Path) -> None:
    folder = tmp_path / "recipes" / "orpo"
    folder.mkdir(parents=True)
    path = folder / "config.yaml"
    path.write_text("model_name_or_path: m\ndataset_name: d\nbeta: 0.05\nnum_train_epochs: 1\n")
    result = check_source(decode(path.read_bytes(), str(path)), _settings())
    assert result.config is not None and result.config.title == "TRL ORPO"
    assert result.config.stage == "orpo"


def test_guard_reads_trl_commands_and_their_overrides() -> None:
    from epochlint.run.guard import read_command, world_size

    launch = read_command(
        ["trl", "sft", "--config", "sft.yaml", "--learning_rate", "3e-5", "--use_peft"]
    )
    assert launch.config == "sft.yaml"
    assert launch.overrides == ("learning_rate=3e-5", "use_peft=true")
    command = [
        "accelerate", "launch", "--num_processes", "4", "--config_file", "zero3.yaml",
        "train.py", "--config", "dpo.yaml", "--beta=0.05", "--num-train-epochs", "2",
    ]  # fmt: skip
    launch = read_command(command)
    assert launch.config == "dpo.yaml"
    assert launch.overrides == ("beta=0.05", "num_train_epochs=2")
    assert world_size(command, {}).size == 4


def test_the_configuration_file_names_the_trainer_entry_and_version(tmp_path: Path) -> None:
    import pytest

    from epochlint.commands.commandline import CommandLine, configurations
    from epochlint.configfile import ConfigError, load

    config = tmp_path / ".epochlint.yaml"
    config.write_text("trl-trainer: grpo\ntrl-entry: cli\ntrl-version: '0.19.1'\n")
    line = CommandLine(config_path=str(config))
    settings = configurations(line).settings_for(str(tmp_path / "x.yaml"))
    assert (settings.trl_trainer, settings.trl_entry, settings.trl) == (
        "grpo",
        "cli",
        Version(0, 19, 1),
    )
    config.write_text("trl-trainer: sftt\n")
    with pytest.raises(ConfigError, match="expected one of sft, dpo"):
        load(config)
    cli = configurations(CommandLine(trl_version="0.22.2", isolated=True))
    assert cli.settings_for(str(tmp_path / "x.yaml")).trl == Version(0, 22, 2)


def test_plan_shows_the_trainer_and_trl_s_sampler_arithmetic() -> None:
    from epochlint.commands.plan import describe

    settings = _settings(world_size=8)
    result = check_source(
        decode(("# epochlint: dataset-size=1000\n" + GRPO).encode(), "g.yaml"), settings
    )
    lines = dict(describe(result, settings))
    assert lines["config"].startswith("TRL GRPO (trainer `grpo` assumed from `num_generations`")
    assert lines["generation"] == (
        "256 completions = 16 prompts x 16 generations, every 4 micro-steps x 1 iterations"
    )
    assert lines["steps per epoch"].startswith(
        "62 = ceil(248 batches / 4); batches = floor(1,000 prompts / 16) x 1 x 4, the last 8 "
        "prompts dropped"
    )
