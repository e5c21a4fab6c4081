"""One training step on a tiny model with a given `loss_type`, to see what TRL does with a value
outside the config class's choices (EL103).

TrlParser never checks `choices` for a YAML value, so `loss_type: sigmoid` reaches KTOTrainer,
whose loss is computed only for `kto` and `apo_zero_unpaired`, and `loss_type: kto` reaches
CPOTrainer (experimental in TRL 1.10), whose loss raises for it. Run with the TRL oracle's
Python:

    .oracles/trl/bin/python scripts/oracles/trl_first_step.py kto|cpo MODEL_DIR LOSS_TYPE OUT_DIR

The last line printed is JSON: {"trained": true} or {"trained": false, "error": "Type: message"}.
"""

from __future__ import annotations

import json
import sys


def main() -> None:
    trainer_name, model_dir, loss_type, output_dir = sys.argv[1:5]
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if trainer_name == "kto":
        from trl import KTOConfig as Config
        from trl import KTOTrainer as Trainer

        rows = [
            {"prompt": f"Say {i}", "completion": f" {i}", "label": i % 2 == 0} for i in range(8)
        ]
    else:
        from trl.experimental.cpo import CPOConfig as Config
        from trl.experimental.cpo import CPOTrainer as Trainer

        rows = [
            {"prompt": f"Say {i}", "chosen": f" {i}", "rejected": f" {i + 1}"} for i in range(8)
        ]
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    args = Config(
        output_dir=output_dir,
        loss_type=loss_type,
        per_device_train_batch_size=4,
        max_steps=1,
        report_to="none",
        use_cpu=True,
        bf16=False,
        save_strategy="no",
    )
    trainer = Trainer(
        model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tokenizer
    )
    try:
        trainer.train()
    except Exception as error:  # what the run would die of
        message = str(error).splitlines()[0] if str(error) else ""
        print(json.dumps({"trained": False, "error": f"{type(error).__name__}: {message}"}))
        return
    print(json.dumps({"trained": True}))


if __name__ == "__main__":
    main()
