"""Train a tiny randomly initialised GPT-2 on the CPU and keep the trainer_state.json it writes.

The log fixtures for `epochlint diagnose` must be what transformers really writes, not what we
think it writes, so this script runs the real Trainer: a 2-layer GPT-2 built from a config (no
hub download) on a synthetic dataset of sequences from a fixed random Markov chain. The training
set is small on purpose: the model learns the chain first (train and eval loss fall together),
then memorises the training sequences (eval loss turns up while train loss keeps falling), which
is the overfitting curve `diagnose` must find.

    pip install torch==2.13.0 'transformers>=4.55,<=5.8' accelerate   # CPU wheel, see README
    python scripts/make_trainer_state_fixture.py fixtures/logs/tiny-gpt2

It writes OUT/trainer_state.json (the final state, log_history included), OUT/trainer_log.jsonl
(the lines LLaMA-Factory's LogCallback.on_log writes for the same run, so both formats come from
one real training) and OUT/train.yaml, the LLaMA-Factory config that describes the run (for
`diagnose --fix`), in under a minute.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

VOCAB = 128
LENGTH = 32
TRAIN_ROWS = 16
EVAL_ROWS = 32
EPOCHS = 40
BATCH = 4
LEARNING_RATE = 5e-3
SEED = 7


def markov_rows(count: int, generator: Any) -> list[dict[str, list[int]]]:
    """Sequences whose next token depends on the current one, so there is something to learn
    before memorising begins."""
    import torch

    chain = torch.Generator().manual_seed(SEED)  # the same chain for train and eval
    logits = torch.randn(VOCAB, VOCAB, generator=chain) * 3.0
    probabilities = torch.softmax(logits, dim=-1)
    rows = []
    for _ in range(count):
        token = int(torch.randint(VOCAB, (1,), generator=generator))
        ids = [token]
        for _ in range(LENGTH - 1):
            token = int(torch.multinomial(probabilities[token], 1, generator=generator))
            ids.append(token)
        rows.append({"input_ids": ids, "labels": list(ids)})
    return rows


def llamafactory_log_callback(path: Path) -> Any:
    """LLaMA-Factory's LogCallback.on_log (src/llamafactory/train/callbacks.py), minus its
    web-UI and VRAM parts: one JSON line per log event, None values dropped."""
    from transformers import TrainerCallback

    class LogCallback(TrainerCallback):  # type: ignore[misc]
        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.start_time = time.time()
            path.write_text("", encoding="utf-8")

        def on_log(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            last = state.log_history[-1]
            elapsed = time.time() - self.start_time
            per_step = elapsed / state.global_step if state.global_step else 0
            logs = dict(
                current_steps=state.global_step,
                total_steps=state.max_steps,
                loss=last.get("loss"),
                eval_loss=last.get("eval_loss"),
                predict_loss=last.get("predict_loss"),
                reward=last.get("reward"),
                accuracy=last.get("rewards/accuracies"),
                lr=last.get("learning_rate"),
                epoch=last.get("epoch"),
                percentage=round(state.global_step / state.max_steps * 100, 2)
                if state.max_steps
                else 100,
                elapsed_time=str(timedelta(seconds=int(elapsed))),
                remaining_time=str(
                    timedelta(seconds=int((state.max_steps - state.global_step) * per_step))
                ),
            )
            logs = {key: value for key, value in logs.items() if value is not None}
            with open(path, "a", encoding="utf-8") as stream:
                stream.write(json.dumps(logs) + "\n")

    return LogCallback()


class Rows:
    """A map-style dataset over token lists, all of the same length (no padding needed)."""

    def __init__(self, rows: list[dict[str, list[int]]]) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> dict[str, Any]:
        import torch

        return {key: torch.tensor(value) for key, value in self.rows[index].items()}


CONFIG = """\
### written by scripts/make_trainer_state_fixture.py: the run behind trainer_state.json
model_name_or_path: tiny-gpt2-random
stage: pt
do_train: true
finetuning_type: full
dataset: markov_{train_rows}
eval_dataset: markov_eval_{eval_rows}
cutoff_len: {length}
output_dir: {output}
logging_steps: {logging_steps}
per_device_train_batch_size: {batch}
gradient_accumulation_steps: 1
learning_rate: {learning_rate}
num_train_epochs: {epochs}.0
lr_scheduler_type: linear
warmup_ratio: 0.1
eval_strategy: epoch
save_strategy: "no"
per_device_eval_batch_size: {batch}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for trainer_state.json and train.yaml")
    out: Path = parser.parse_args().out

    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainingArguments, set_seed

    set_seed(SEED)
    generator = torch.Generator().manual_seed(SEED + 1)
    train, evaluation = markov_rows(TRAIN_ROWS, generator), markov_rows(EVAL_ROWS, generator)
    model = GPT2LMHeadModel(
        GPT2Config(n_layer=2, n_head=2, n_embd=64, vocab_size=VOCAB, n_positions=LENGTH)
    )
    steps_per_epoch = -(-TRAIN_ROWS // BATCH)
    with tempfile.TemporaryDirectory() as scratch:
        arguments = TrainingArguments(
            output_dir=scratch,
            num_train_epochs=EPOCHS,
            per_device_train_batch_size=BATCH,
            per_device_eval_batch_size=BATCH,
            learning_rate=LEARNING_RATE,
            lr_scheduler_type="linear",
            warmup_steps=0.1,
            logging_steps=steps_per_epoch // 2,
            eval_strategy="epoch",
            save_strategy="no",
            report_to="none",
            use_cpu=True,
            seed=SEED,
            disable_tqdm=True,
        )
        trainer = Trainer(
            model=model,
            args=arguments,
            train_dataset=Rows(train),
            eval_dataset=Rows(evaluation),
            callbacks=[llamafactory_log_callback(Path(scratch) / "trainer_log.jsonl")],
        )
        started = time.monotonic()
        trainer.train()
        # save_state writes exactly the file a checkpoint folder holds.
        trainer.save_state()
        out.mkdir(parents=True, exist_ok=True)
        for name in ("trainer_state.json", "trainer_log.jsonl"):
            shutil.copy(Path(scratch) / name, out / name)
    (out / "train.yaml").write_text(
        CONFIG.format(
            train_rows=TRAIN_ROWS,
            eval_rows=EVAL_ROWS,
            length=LENGTH,
            output=out.as_posix(),
            logging_steps=steps_per_epoch // 2,
            batch=BATCH,
            learning_rate=f"{LEARNING_RATE:.1e}",
            epochs=EPOCHS,
        ),
        encoding="utf-8",
    )
    state = json.loads((out / "trainer_state.json").read_text(encoding="utf-8"))
    print(
        f"{out / 'trainer_state.json'}: {state['global_step']} steps, "
        f"{len(state['log_history'])} log entries, {time.monotonic() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
