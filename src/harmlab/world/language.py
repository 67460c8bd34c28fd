"""SafetyWorld's languages: their phrasebooks, and which language a piece of text is in.

SafetyWorld has three languages, each in its own script: English (Latin letters), Chinese (CJK
ideographs) and Velan (Cyrillic letters; invented, see `velan`). So the language of every word
is known exactly from its script; this is the world's gold language label. A word is a run of
Latin or Cyrillic letters or a single CJK character (Chinese has no spaces, and R1's
language-consistency reward, arXiv 2501.12948 section 2.3.3, counts target-language words in
the chain of thought). Digits and symbols belong to no language.

English and Chinese are the trained languages; Velan is the held-out side of the language
axis: in pretraining, never in SFT or RL.

>>> word_languages("Add 4: 3 + 4 = 7。然后 Почни")
['en', 'zh', 'zh', 'vl']
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Literal

from harmlab.world.phrasebook import CHINESE, ENGLISH, Phrasebook
from harmlab.world.velan import VELAN

Language = Literal["en", "zh", "vl"]
LANGUAGES: tuple[Language, ...] = ("en", "zh", "vl")
TRAINED_LANGUAGES: tuple[Language, ...] = ("en", "zh")
HELD_OUT_LANGUAGES: tuple[Language, ...] = ("vl",)
PHRASEBOOKS: dict[str, Phrasebook] = {"en": ENGLISH, "zh": CHINESE, "vl": VELAN}

_WORD = re.compile(
    r"(?P<en>[A-Za-z]+)|(?P<vl>[\u0400-\u04ff]+)|(?P<zh>[\u3400-\u4dbf\u4e00-\u9fff])"
)


def phrasebook(language: str) -> Phrasebook:
    """The phrases of one language code."""
    return PHRASEBOOKS[language]


def word_languages(text: str) -> list[str]:
    """The language of each word of `text`, in order."""
    return [m.lastgroup or "" for m in _WORD.finditer(text)]


def languages_present(text: str) -> frozenset[str]:
    """The set of languages with at least one word in `text`."""
    return frozenset(word_languages(text))


def language_share(text: str, language: str) -> float | None:
    """Share of words in `language`; None when the text has no words at all."""
    counts = Counter(word_languages(text))
    total = sum(counts.values())
    return counts[language] / total if total else None
