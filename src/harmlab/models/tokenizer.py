"""The embedded model's tokenizer: byte-level BPE trained on the pretraining corpus.

    harmlab pretrain                # trains it (through models.tiny.pretrain) before the model

Byte-level BPE (the GPT-2 scheme) so that every string, English or Chinese, leetspeak or
spaced letters, has an encoding and decodes back to exactly itself: there is no unknown token
and no normalizer. The chat markers of `models.chat` are *special* tokens (stripped by
`decode(..., skip_special_tokens=True)`); the R1 reasoning tags `<think>` / `</think>` are
*added non-special* tokens: never split, but kept in decoded text, because the format reward
and the gold judge must see them in a completion.

`<|endoftext|>` is end-of-sequence, padding and beginning-of-sequence at once: pretraining
packs conversations back to back, so each one starts right after the previous one's end marker.
No post-processor adds it; the chat template writes every marker explicitly.

Padding is on the left: harmlab pads only to batch prompts for generation, where the new
tokens must follow each prompt's last token directly. TRL's trainers pad their own batches.
"""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from harmlab.models.chat import ADDED_TOKENS, CHAT_TEMPLATE, END, SPECIAL_TOKENS


def train_tokenizer(
    texts: Iterable[str], vocab_size: int, *, model_max_length: int | None = None
) -> PreTrainedTokenizerFast:
    """Train a byte-level BPE tokenizer of at most `vocab_size` tokens (added tokens included).

    The vocabulary can come out smaller when the corpus runs out of pairs to merge; size the
    model with `len(tokenizer)`, never with `vocab_size`.
    """
    backend = _train_backend(texts, vocab_size - len(ADDED_TOKENS))
    backend.add_tokens([AddedToken(tag, special=False, normalized=False) for tag in ADDED_TOKENS])
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        eos_token=END,
        pad_token=END,
        bos_token=END,
        additional_special_tokens=[t for t in SPECIAL_TOKENS if t != END],
        padding_side="left",
        clean_up_tokenization_spaces=False,
        model_max_length=model_max_length or 1_000_000,
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def _train_backend(texts: Iterable[str], vocab_size: int) -> Tokenizer:
    """The raw `tokenizers` BPE model: byte-level pre-tokenizer and decoder, no normalizer."""
    backend = Tokenizer(models.BPE())
    # add_prefix_space=False: a leading space would change the text, breaking exact round trips.
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(texts, trainer=trainer)
    return backend
