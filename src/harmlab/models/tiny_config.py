"""The tiny embedded model's configuration: architecture and pretraining schedule, as data.

    harmlab pretrain --from-scratch   # pretrains a model with these defaults (models.tiny)

Kept apart from `models.tiny` so that code which only needs the config (the cache lookup in
`models.base`, YAML loading) does not import torch. Every field is part of the base model's
cache key, so changing any of them pretrains a new model instead of reusing a stale one.

At the defaults the model has about 2.2M parameters, costs about 15 MFLOP per trained token
(`training_flops_per_token`) and pretraining takes a few minutes on a 2-core laptop CPU, at
two thirds to 85% of a large float32 matmul's FLOP/s (`benchmarks/pretrain_step.py`);
`pretrain.json` records each run's tokens/s and model FLOP/s.
"""

from __future__ import annotations

from dataclasses import dataclass

from harmlab import HarmlabError


@dataclass(frozen=True)
class TinyModelConfig:
    """A small Llama and the schedule that pretrains it from scratch on a world's corpus."""

    hidden_size: int = 192
    """Width of the residual stream."""
    num_layers: int = 4
    """Number of transformer blocks."""
    num_heads: int = 4
    """Attention heads per block (head size is hidden_size / num_heads)."""
    num_kv_heads: int = 4
    """Key/value heads; equal to num_heads (plain multi-head attention: GQA saves nothing here)."""
    intermediate_size: int = 512
    """Hidden width of the SwiGLU feed-forward block."""
    vocab_size: int = 2048
    """Target tokenizer size (byte-level BPE, added tokens included); the model is sized to the
    trained tokenizer, which can come out smaller on a small corpus."""
    max_position: int = 320
    """Longest sequence the model is built for (prompt plus completion at generation time)."""
    tie_embeddings: bool = True
    """Share the input embedding and the output head: at this size the embedding is a fifth of
    the parameters."""
    steps: int = 800
    """Optimizer steps of pretraining (between two and three passes over the default corpus: at
    300 the model has the format but not yet the recipes or the copying that arithmetic needs)."""
    batch_size: int = 16
    """Sequences per step."""
    seq_len: int = 256
    """Tokens per packed training sequence (at most max_position)."""
    lr: float = 3e-3
    """Peak learning rate of AdamW (tiny models train well at rates this high)."""
    min_lr_ratio: float = 0.1
    """Final learning rate of the cosine schedule, as a fraction of lr."""
    warmup_steps: int = 45
    """Steps of linear warmup from zero to lr."""
    weight_decay: float = 0.1
    """AdamW decoupled weight decay, applied to matrices only (not norms)."""
    grad_clip: float = 1.0
    """Global gradient-norm clipping threshold."""
    seed: int = 0
    """Seeds weight initialisation and batch order: same seed, same corpus, same weights."""
    corpus_size: int = 20_000
    """Conversations in the pretraining corpus. The caller's corpus factory reads it (pretrain
    trains on whatever it is given); it is here so that it enters the cache key."""
    bf16_autocast: bool = False
    """Run pretraining matmuls in bfloat16 autocast (weights stay float32). Off by default: on
    this project's 2-core Xeon, whose CPU reports native AVX512-BF16, autocast made a step 1.6x
    slower than float32 (`benchmarks/pretrain_step.py`), and without native bf16 torch emulates
    it far slower still. Float32 also keeps the base model the same on every CPU."""
    num_threads: int | None = None
    """torch CPU threads during pretraining; None uses every core."""

    def __post_init__(self) -> None:
        if self.seq_len > self.max_position:
            raise HarmlabError(f"seq_len {self.seq_len} exceeds max_position {self.max_position}")
        if self.hidden_size % self.num_heads or self.num_heads % self.num_kv_heads:
            raise HarmlabError("hidden_size must divide by num_heads, num_heads by num_kv_heads")


def training_flops_per_token(cfg: TinyModelConfig, vocab_size: int | None = None) -> int:
    """Model FLOPs of one trained token (forward and backward): 6N plus attention.

    N counts the parameters that multiply activations: every projection and the output head
    (which is the embedding when tied; the input lookup itself costs nothing). Attention adds
    12 * layers * hidden * seq_len (scores and weighted sum, forward and backward, no causal
    discount), as in PaLM's model-FLOPs utilisation (arXiv:2204.02311, appendix B). vocab_size
    defaults to the config's target; the trained tokenizer can come out smaller.
    """
    vocab = cfg.vocab_size if vocab_size is None else vocab_size
    kv_width = cfg.hidden_size // cfg.num_heads * cfg.num_kv_heads
    attention_projections = 2 * cfg.hidden_size * (cfg.hidden_size + kv_width)
    feed_forward = 3 * cfg.hidden_size * cfg.intermediate_size
    matmul_parameters = cfg.num_layers * (attention_projections + feed_forward)
    matmul_parameters += vocab * cfg.hidden_size
    attention = 12 * cfg.num_layers * cfg.hidden_size * cfg.seq_len
    return 6 * matmul_parameters + attention
