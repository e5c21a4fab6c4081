"""Make a tiny random Qwen2 model and its tokenizer in a folder, with no download.

The crosscheck trains it with the real `llamafactory-cli train` on the CPU: what is compared is
the schedule (steps, evaluations, log points, checkpoints), never what the model learns, so a
model of a few thousand parameters does. The tokenizer is a byte-level BPE trained here on a few
sentences (every byte has a token, so any text encodes), saved as a PreTrainedTokenizerFast with
the special tokens and chat template of LLaMA-Factory's `qwen` template.

Run with the oracle's Python: `.oracles/llamafactory/bin/python scripts/oracles/make_tiny_model.py
DIR` (it needs transformers, tokenizers and torch). A folder that already holds the model is
left as it is.
"""

from __future__ import annotations

import sys
from pathlib import Path

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
SENTENCES = [
    "Give three tips for staying healthy.",
    "Eat a balanced diet, exercise regularly and sleep well.",
    "What is the capital of France? Paris is the capital of France.",
    "system user assistant observation function",
]


def make(folder: Path) -> None:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(SENTENCES, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=["<|im_start|>"],
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(folder)

    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=len(fast),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=512,
        tie_word_embeddings=True,
        eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
        bos_token_id=None,
    )
    Qwen2ForCausalLM(config).save_pretrained(folder)


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else ".oracles/tiny-qwen2")
    if (folder / "config.json").exists() and (folder / "tokenizer.json").exists():
        return
    folder.mkdir(parents=True, exist_ok=True)
    make(folder)
    print(f"tiny model in {folder}")


if __name__ == "__main__":
    main()
