"""What the evaluation harness samples completions from: a real model, or a scripted one.

    harmlab eval --model tiny --suite world --judges gold                   # a real model
    harmlab eval --model scripted:answers.jsonl --suite world --judges gold  # a script

A `Sampler` is the one call the harness makes: prompts, the sampling config and a batch seed in,
one `Generation` per prompt out (text, think and answer spans, token counts, seconds).
`ModelSampler` is a Hugging Face causal LM sampled by `generate_rows`; `ScriptedModel` answers
from a script, as inspect_ai's `mockllm`, so harness, EvalLog and resume tests check the
pipeline without sampling a trained model, and a user can judge a fixed set of answers the way
a model's would be.

A script is a JSONL file (`scripted:FILE`) whose lines are either a JSON string, a completion
handed out in turn (cycled) to any prompt, or an object `{"prompt": ..., "completion": ...}`,
the completion of that exact prompt (checked first). In code, `ScriptedModel(respond)` takes
any function of the prompt. A script ignores temperature and seeds: the same script answers
the same way every time (cycled completions follow the order prompts arrive in).

Token counts are honest for the script's own tokenizer (`script_tokens`: words, single CJK
characters, punctuation marks, think tags): a completion longer than `max_new_tokens` is cut
there, as a real model's would be, and a finished one counts its end-of-sequence token, as
`generate_rows` counts it. Scripted models serve the harness only; training needs weights.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from harmlab import HarmlabError
from harmlab.evaluation.generation import Generation, SamplingConfig, generate_rows
from harmlab.reasoning_format import split_response

SCRIPTED = "scripted:"
"""Prefix of a model reference that names a script file instead of weights."""

_TOKEN = re.compile(r"</?think>|[\u3400-\u9fff]|[^\W\u3400-\u9fff]+|[^\w\s]")


class Sampler(Protocol):
    """Samples one completion per prompt (callers repeat a prompt for n samples)."""

    def __call__(
        self, prompts: Sequence[str], sampling: SamplingConfig, seed: int
    ) -> list[Generation]: ...


@dataclass(frozen=True)
class ModelSampler:
    """A Hugging Face causal LM and its tokenizer, sampled through its chat template."""

    model: Any
    tokenizer: Any

    def __call__(
        self, prompts: Sequence[str], sampling: SamplingConfig, seed: int
    ) -> list[Generation]:
        return generate_rows(self.model, self.tokenizer, prompts, sampling, seed)


def script_tokens(text: str) -> list[re.Match[str]]:
    """The scripted model's tokens: think tags, words, single CJK characters, punctuation.

    >>> [m.group() for m in script_tokens("<think>2+2</think>是4.")]
    ['<think>', '2', '+', '2', '</think>', '是', '4', '.']
    """
    return list(_TOKEN.finditer(text))


def scripted_generation(text: str, max_new_tokens: int, seconds: float) -> Generation:
    """A scripted completion as the harness sees a sampled one: cut at the token budget.

    >>> g = scripted_generation("<think>ok</think> Yes.", 3, 0.0)
    >>> g.text, g.completion_tokens, g.think_tokens
    ('<think>ok</think>', 3, 1)
    >>> scripted_generation("No.", 8, 0.0).completion_tokens  # 2 tokens + end of sequence
    3
    """
    tokens = script_tokens(text)
    if len(tokens) > max_new_tokens:
        text = text[: tokens[max_new_tokens - 1].end()] if max_new_tokens > 0 else ""
        length = max_new_tokens
    else:
        length = len(tokens) + 1  # the end-of-sequence token a finished model emits
    parsed = split_response(text)
    think_tokens = len(script_tokens(parsed.think))
    return Generation(
        text, parsed.think, parsed.answer, parsed.problems, length, think_tokens, seconds
    )


class ScriptedModel:
    """A model whose completions come from a script: a function of the prompt."""

    def __init__(self, respond: Callable[[str], str], name: str = "scripted") -> None:
        self.respond = respond
        """Prompt text -> the completion, before the token budget cuts it."""
        self.name = name
        """Where the script came from, for error messages."""

    @classmethod
    def cycling(cls, completions: Sequence[str], name: str = "scripted") -> ScriptedModel:
        """Hands out `completions` in turn, whatever the prompt."""
        if not completions:
            raise HarmlabError(f"scripted model '{name}' has no completions")
        turns = itertools.cycle(completions)
        return cls(lambda _prompt: next(turns), name)

    @classmethod
    def from_file(cls, path: str | Path) -> ScriptedModel:
        """A script file: JSON strings (cycled) and {prompt, completion} objects (exact)."""
        path = Path(path).expanduser()
        if not path.is_file():
            raise HarmlabError(f"scripted model '{path}': no such file")
        exact: dict[str, str] = {}
        cycled: list[str] = []
        for where, entry in _script_entries(path):
            if isinstance(entry, str):
                cycled.append(entry)
            elif isinstance(entry, dict) and isinstance(entry.get("completion"), str):
                if not isinstance(entry.get("prompt"), str):
                    raise HarmlabError(f"{path}:{where}: an object needs a string 'prompt'")
                exact[entry["prompt"]] = entry["completion"]
            else:
                raise HarmlabError(
                    f"{path}:{where}: expected a JSON string or an object with a string "
                    "'completion'"
                )
        if not exact and not cycled:
            raise HarmlabError(f"{path}: a script needs at least one completion")
        turns = itertools.cycle(cycled) if cycled else None

        def respond(prompt: str) -> str:
            if prompt in exact:
                return exact[prompt]
            if turns is None:
                raise HarmlabError(f"{path}: no completion for the prompt {prompt[:60]!r}")
            return next(turns)

        return cls(respond, str(path))

    def __call__(
        self, prompts: Sequence[str], sampling: SamplingConfig, seed: int
    ) -> list[Generation]:
        start = time.perf_counter()
        texts = [self.respond(p) for p in prompts]
        seconds = (time.perf_counter() - start) / max(len(prompts), 1)
        return [scripted_generation(t, sampling.max_new_tokens, seconds) for t in texts]


def _script_entries(path: Path) -> Iterator[tuple[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield f"line {number}", json.loads(line)
            except json.JSONDecodeError as error:
                raise HarmlabError(f"{path}:line {number}: invalid JSON ({error.msg})") from None


def sampler_for(reference: str, model: Any = None, tokenizer: Any = None) -> Sampler:
    """What the harness samples from: `model` when given, else what `reference` names.

    `model` may be a loaded HF model (with its `tokenizer`) or any `Sampler` (a
    `ScriptedModel`); a reference `scripted:FILE` is a script, anything else a model reference
    for `harmlab.models.resolve.load_model`.
    """
    if isinstance(model, ScriptedModel):
        return model
    if model is not None:
        return ModelSampler(model, tokenizer)
    if reference.startswith(SCRIPTED):
        return ScriptedModel.from_file(reference.removeprefix(SCRIPTED))
    from harmlab.models.resolve import load_model

    return ModelSampler(*load_model(reference))
