"""Which languages a piece of SafetyWorld text is written in, by script.

SafetyWorld has two languages, English (Latin letters) and Chinese (CJK ideographs), so the
language of every word is known exactly from its script; this is the world's gold language
label. A word is a run of Latin letters or a single CJK character (Chinese has no spaces, and
R1's language-consistency reward, arXiv 2501.12948 section 2.3.3, counts target-language
words in the chain of thought). Digits and symbols belong to no language.

>>> word_languages("Add 4: 3 + 4 = 7。然后")
['en', 'zh', 'zh']
"""

from __future__ import annotations

import re
from collections import Counter

_WORD = re.compile(r"[A-Za-z]+|[\u3400-\u4dbf\u4e00-\u9fff]")


def word_languages(text: str) -> list[str]:
    """The language of each word of `text`, in order."""
    return ["zh" if len(word) == 1 and word > "\u3000" else "en" for word in _WORD.findall(text)]


def languages_present(text: str) -> frozenset[str]:
    """The set of languages with at least one word in `text`."""
    return frozenset(word_languages(text))


def language_share(text: str, language: str) -> float | None:
    """Share of words in `language`; None when the text has no words at all."""
    counts = Counter(word_languages(text))
    total = sum(counts.values())
    return counts[language] / total if total else None
