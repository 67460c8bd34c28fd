"""The R1 response format, `<think>reasoning</think> answer`, parsed tolerantly.

DeepSeek-R1 (arXiv 2501.12948) trains its policy to put its chain of thought between think tags
and the final answer after them. Real and tiny models alike break the format: a missing
opening tag (many R1 chat templates pre-fill it), a missing closing tag (cut-off generation),
repeated tags. `split_response` never fails; it returns the two spans and names every problem,
so judges can look at the reasoning and the answer separately and the format reward can
score validity.

>>> split_response("<think>2 + 2 = 4.</think> The answer is 4.").answer
'The answer is 4.'
>>> split_response("2 + 2 = 4.</think> 4").problems
('missing <think>',)
"""

from __future__ import annotations

from dataclasses import dataclass

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"


@dataclass(frozen=True)
class ParsedResponse:
    """A response split into its reasoning span and its answer span."""

    think: str
    """Text between the tags ('' when there is none)."""
    answer: str
    """Text after the closing tag; the whole text when no reasoning span could be found."""
    problems: tuple[str, ...]
    """Format problems found, empty for a well-formed response."""

    @property
    def valid(self) -> bool:
        """Exactly one think span first, then a non-empty answer."""
        return not self.problems


def split_response(text: str) -> ParsedResponse:
    """Split `text` into think and answer spans, tolerating missing or repeated tags."""
    problems: list[str] = []
    stripped = text.strip()
    n_open, n_close = stripped.count(THINK_OPEN), stripped.count(THINK_CLOSE)
    if n_open > 1 or n_close > 1:
        problems.append("repeated think tags")
    if n_close == 0:
        if n_open == 0:
            return ParsedResponse("", stripped, ("missing <think>", "missing </think>"))
        # An opened but never closed reasoning span: everything after the tag is reasoning.
        think = stripped.split(THINK_OPEN, 1)[1].strip()
        return ParsedResponse(think, "", (*problems, "missing </think>", "empty answer"))
    head, answer = stripped.split(THINK_CLOSE, 1)
    if THINK_OPEN in head:
        before, think = head.split(THINK_OPEN, 1)
        if before.strip():
            problems.append("text before <think>")
    else:
        think = head
        problems.append("missing <think>")
    answer = answer.replace(THINK_OPEN, "").replace(THINK_CLOSE, "").strip()
    if not answer:
        problems.append("empty answer")
    return ParsedResponse(think.strip(), answer, tuple(problems))
