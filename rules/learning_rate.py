"""EL3: learning rate, method and precision."""

from __future__ import annotations

from collections.abc import Iterator

from epochlint.diagnostic import Edit, Fix, format_value
from epochlint.facts.context import Context
from epochlint.facts.guidelines import STAGE_NAMES, stage_group
from epochlint.rules import Finding, rule
from epochlint.rules.length import method_name


@rule("EL301", "learning-rate-out-of-range", "warning", fix="suggested")
def learning_rate_out_of_range(context: Context) -> Iterator[Finding]:
    """A learning rate far from the usual range for the stage and the fine-tuning method.

    ## What it does
    Compares `learning_rate` with the band for the stage and the method (README "The
    guideline tables"). SFT:

    | method | typical | warn below | warn above |
    |---|---|---|---|
    | LoRA / OFT / Freeze | 1e-4 | 2e-5 | 5e-4 |
    | QLoRA | 2e-4 | 4e-5 | 1e-3 |
    | Full | 1e-5 | 2e-6 | 5e-5 |

    A model of at most 2B parameters (its size in the model name, such as `SmolLM2-135M`, or
    counted from a local model's `config.json`) is warned only above 1e-3 with full
    fine-tuning (1e-2 with LoRA, 2e-2 with QLoRA): small models train at much higher rates.
    Pre-training with full fine-tuning: 5e-5 [1e-6, 1e-3]. Preference stages (DPO, KTO,
    ORPO, SimPO): full 5e-7 [1e-7, 5e-6], LoRA and QLoRA 5e-6 [5e-7, 5e-5]. Reward models:
    full 1e-5 [1e-6, 5e-5]. A method a stage leaves out follows SFT; PPO is not checked.

    ## Why is this bad?
    LoRA adapters start at zero and need a rate about ten times that of full fine-tuning; a
    full-fine-tuning rate on an adapter barely moves it, and an adapter rate on full
    fine-tuning destroys what the model knew.

    ## Example
    ```yaml
    finetuning_type: lora
    learning_rate: 1.0e-5
    ```

    ## Use instead
    ```yaml
    finetuning_type: lora
    learning_rate: 1.0e-4
    ```

    ## Source
    Published recipes: SmolLM SFT at 1e-3 (135M-360M) and 3e-4 (1.7B), Zephyr and Alpaca at
    2e-5 (7B), Tulu 3 at 5e-6 (8B); Zephyr and Tulu 3 DPO at 5e-7, TRL's DPOConfig default
    1e-6, LLaMA-Factory's LoRA DPO/KTO examples at 5e-6; SmolLM2-style pre-training at 5e-4 to
    1e-3.

    ## Fix safety
    Suggested: the typical value for the stage and method.
    """
    config = context.config
    if not config.flag("do_train"):
        return
    rate = config.number("learning_rate")
    if rate is None or rate <= 0:
        return
    band = context.stage_learning_rate_band(None)
    if band is None:
        return
    parameters = None
    if rate > band["high"]:  # a small model's band reaches higher: only now read its size
        parameters = context.model_parameters()
        band = context.stage_learning_rate_band(parameters) or band
    low, high, typical = band["low"], band["high"], band["typical"]
    if low <= rate <= high:
        return
    written = (
        f"`{config.key('learning_rate')}: {format_value(rate)}`"
        if config.has("learning_rate")
        else f"`{config.key('learning_rate')}` is not set, so the default {format_value(rate)}"
    )
    if rate < low:
        effect = "the weights will barely move"
        if context.plan.total_steps:
            effect += f" in {context.plan.total_steps:,} steps"
        side = "below"
    else:
        effect = "training is likely to diverge or erase what the model knew"
        side = "above"
    yield Finding(
        f"{written} is {side} the {format_value(low)}-{format_value(high)} range for "
        f"{_run_phrase(context, band, parameters)} "
        f"(typical {format_value(typical)}): "
        f"{effect}; use {format_value(typical)}. To keep it on purpose, add "
        f"`# epochlint: disable=EL301` above the line, or set the band in the configuration "
        f"(`guidelines.{_table(context)}`)",
        config.span("learning_rate"),
        Fix((config.set("learning_rate", typical),), "suggested"),
        {
            "learning_rate": rate,
            "low": low,
            "high": high,
            "typical": typical,
            "parameters": parameters,
        },
    )


def _run_phrase(context: Context, band: dict[str, float], parameters: float | None) -> str:
    """`LoRA`, `DPO with full fine-tuning`, `full fine-tuning of a 135M-parameter model`."""
    config = context.config
    phrase = method_name(context)
    if stage_group(context.guidelines, config.stage) != "sft":
        phrase = f"{STAGE_NAMES.get(config.stage, config.stage)} with {phrase}"
    elif parameters is not None and band != context.learning_rate_band():
        phrase += f" of a {_size(parameters)}-parameter model"
    return phrase


def _size(parameters: float) -> str:
    if parameters >= 1e9:
        return f"{format_value(round(parameters / 1e9, 1)).removesuffix('.0')}B"
    return f"{round(parameters / 1e6)}M"


def _table(context: Context) -> str:
    """Where the band the finding used is set in the configuration."""
    group = stage_group(context.guidelines, context.config.stage)
    row = context.method_row
    if group == "sft" or row not in context.guidelines["stage_learning_rate"].get(group, {}):
        return f"learning_rate.{row}"
    return f"stage_learning_rate.{group}.{row}"


@rule("EL302", "quantization-needs-adapter", "error")
def quantization_needs_adapter(context: Context) -> Iterator[Finding]:
    """`quantization_bit` with full or freeze fine-tuning.

    ## What it does
    Reports on-the-fly quantization combined with a method that trains the base weights
    (Axolotl: `load_in_4bit` or `load_in_8bit` without an `adapter`).

    ## Why is this bad?
    LLaMA-Factory stops at start-up: `Quantization is only compatible with the LoRA or OFT
    method.` Quantized weights cannot be trained directly; QLoRA trains an adapter on top.

    ## Example
    ```yaml
    finetuning_type: full
    quantization_bit: 4
    ```

    ## Use instead
    ```yaml
    finetuning_type: lora
    quantization_bit: 4
    ```

    ## Source
    LLaMA-Factory `hparams/parser.py: _verify_model_args`, when `quantization_bit` is set and
    `finetuning_type` is not `lora` or `oft`: `Quantization is only compatible with the LoRA or
    OFT method.`

    ## Fix safety
    No fix: dropping quantization or switching to LoRA are both reasonable.
    """
    config = context.config
    if not config.quantized or config.method not in ("full", "freeze"):
        return
    if config.supports("quantization_bit"):
        finetuning = config.text("finetuning_type")
        yield Finding(
            f"`{config.key('quantization_bit')}: {config.value('quantization_bit')}` with "
            f"`{config.key('finetuning_type')}: {finetuning}`: LLaMA-Factory stops with "
            "`Quantization is only compatible with the LoRA or OFT method.`; use LoRA (QLoRA) "
            "or remove the quantization",
            config.span("quantization_bit"),
        )
        return
    key = next(k for k in ("load_in_4bit", "load_in_8bit", "gptq") if config.flag(k))
    yield Finding(
        f"`{key}: true` without an `adapter`: {config.dialect.title} stops with `load_in_8bit "
        "and load_in_4bit are not supported without setting an adapter for training.`; add "
        "`adapter: qlora` (4-bit) or `adapter: lora`, or remove the quantization to fine-tune "
        "every weight",
        config.span(key),
    )


@rule("EL303", "fp16-and-bf16", "error")
def fp16_and_bf16(context: Context) -> Iterator[Finding]:
    """Both `fp16` and `bf16` are true.

    ## What it does
    Reports a config that asks for both half-precision modes.

    ## Why is this bad?
    transformers refuses it when it builds the arguments: `At most one of fp16 and bf16 can
    be True, but not both`.

    ## Example
    ```yaml
    bf16: true
    fp16: true
    ```

    ## Use instead
    ```yaml
    bf16: true
    ```

    ## Fix safety
    No fix: bf16 needs an Ampere or newer GPU, so the choice is yours.
    """
    config = context.config
    if config.flag("fp16") and config.flag("bf16"):
        yield Finding(
            f"`{config.key('fp16')}` and `{config.key('bf16')}` are both true: transformers stops "
            "with `At most one of fp16 and bf16 can be True, but not both`; keep bf16 on Ampere "
            "or newer GPUs, fp16 on older ones",
            config.span("fp16"),
        )


LORA_ONLY = ("use_rslora", "use_dora", "pissa_init", "loraplus_lr_ratio", "adapter_name_or_path")


@rule("EL304", "lora-option-without-lora", "error")
def lora_option_without_lora(context: Context) -> Iterator[Finding]:
    """A LoRA-only option with another fine-tuning method.

    ## What it does
    Reports `use_rslora`, `use_dora`, `pissa_init`, `loraplus_lr_ratio` and
    `adapter_name_or_path` when `finetuning_type` is not `lora`.

    ## Why is this bad?
    LLaMA-Factory stops at start-up: `` `use_dora` is only valid for LoRA training. `` and
    `Adapter is only valid for the LoRA method.`

    ## Example
    ```yaml
    finetuning_type: full
    use_dora: true
    ```

    ## Use instead
    ```yaml
    finetuning_type: lora
    use_dora: true
    ```

    ## Source
    LLaMA-Factory `hparams/finetuning_args.py: FinetuningArguments.__post_init__`, when
    `finetuning_type` is not `lora`: `` `use_dora` is only valid for LoRA training. `` (the same
    text for `use_rslora`, `pissa_init` and `loraplus_lr_ratio`); `hparams/parser.py:
    _verify_model_args` for `adapter_name_or_path`: `Adapter is only valid for the LoRA method.`

    ## Fix safety
    No fix.
    """
    config = context.config
    finetuning = config.text("finetuning_type") or "lora"
    if finetuning == "lora":
        return
    for option in LORA_ONLY:
        value = config.value(option)
        if value is None or value is False or not config.has(option):
            continue
        error = (
            "Adapter is only valid for the LoRA method."
            if option == "adapter_name_or_path"
            else f"`{option}` is only valid for LoRA training."
        )
        yield Finding(
            f"`{config.key(option)}` needs `{config.key('finetuning_type')}: lora`, but it is "
            f"`{finetuning}`: LLaMA-Factory stops with `{error}`",
            config.span(option),
        )


@rule("EL305", "no-mixed-precision", "info")
def no_mixed_precision(context: Context) -> Iterator[Finding]:
    """Training in full fp32: neither `bf16` nor `fp16` is set.

    ## What it does
    Reports training configs without mixed precision. `pure_bf16` trains in bf16 and is not
    reported (LLaMA-Factory's own mixed-precision warning does not see it).

    ## Why is this bad?
    fp32 needs twice the memory and is several times slower on modern GPUs; LLaMA-Factory
    warns `We recommend enable mixed precision training.`

    ## Example
    ```yaml
    do_train: true
    ```

    ## Use instead
    ```yaml
    do_train: true
    bf16: true
    ```

    ## Fix safety
    No fix: bf16 needs an Ampere or newer GPU.
    """
    config = context.config
    # Axolotl's default `bf16: auto` turns bf16 on where the GPU has it.
    if not config.flag("do_train") or config.flag("fp16") or config.value("bf16") in (True, "auto"):
        return
    if config.flag("pure_bf16"):
        return  # trains in bf16: nothing to change
    yield Finding(
        "neither `bf16` nor `fp16` is set, so training runs in fp32 (twice the memory, much "
        "slower); set `bf16: true` on Ampere or newer GPUs, `fp16: true` on older ones"
    )


@rule("EL306", "qlora-needs-4bit", "error", fix="safe")
def qlora_needs_4bit(context: Context) -> Iterator[Finding]:
    """Axolotl's `adapter: qlora` without `load_in_4bit: true`, or with 8-bit loading.

    ## What it does
    Reports a QLoRA adapter whose base model is not loaded in 4 bits.

    ## Why is this bad?
    Axolotl refuses the config: `Require cfg.load_in_4bit to be True for qlora` (or `Can't
    load qlora in 8bit`). QLoRA is LoRA on a 4-bit quantized model.

    ## Example
    ```yaml
    adapter: qlora
    ```

    ## Use instead
    ```yaml
    adapter: qlora
    load_in_4bit: true
    ```

    ## Fix safety
    Safe: `load_in_4bit: true` is what `adapter: qlora` means.

    ## Source
    axolotl `src/axolotl/utils/schemas/peft.py`: `LoraConfig.validate_qlora`.
    """
    config = context.config
    if config.value("adapter") != "qlora" or config.flag("merge_lora"):
        return
    peft = config.value("peft")
    if isinstance(peft, dict) and peft.get("backend") == "torchao":
        return  # torchao quantizes without the bitsandbytes flags
    if config.flag("load_in_8bit"):
        yield Finding(
            "`adapter: qlora` with `load_in_8bit: true`: Axolotl stops with `Can't load qlora "
            "in 8bit`; QLoRA loads the model in 4 bits (`load_in_4bit: true`), 8-bit loading "
            "goes with `adapter: lora`",
            config.span("load_in_8bit"),
        )
    elif not config.flag("load_in_4bit"):
        yield Finding(
            "`adapter: qlora` without `load_in_4bit: true`: Axolotl stops with `Require "
            "cfg.load_in_4bit to be True for qlora`",
            config.span("adapter"),
            Fix((Edit("set", "load_in_4bit", True),), "safe"),
        )
