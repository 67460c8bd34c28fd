"""SafetyWorld: a procedural, seeded, versioned world in which harm is known exactly.

See DESIGN.md ("SafetyWorld"). The public surface:

- `SafetyWorld(seed)`: lexicon, prompts by split and family, gold judge.
- `WorldPrompt`: one prompt and everything needed to grade a response to it.
- `GoldJudge` / `GoldVerdict`: exact verdicts on the think span and the answer span.
- `pretrain_conversations`: the unaligned base model's corpus.
"""

from harmlab.world.corpus import BaseBehaviour, pretrain_conversations
from harmlab.world.judge import GoldJudge, GoldVerdict, SpanVerdict
from harmlab.world.lexicon import SURFACE_FORMS, Hazard, Lexicon, SurfaceForm, Term
from harmlab.world.prompts import FAMILIES, WorldPrompt
from harmlab.world.world import SPLITS, WORLD_VERSION, SafetyWorld, split_of

__all__ = [
    "FAMILIES",
    "SPLITS",
    "SURFACE_FORMS",
    "WORLD_VERSION",
    "BaseBehaviour",
    "GoldJudge",
    "GoldVerdict",
    "Hazard",
    "Lexicon",
    "SafetyWorld",
    "SpanVerdict",
    "SurfaceForm",
    "Term",
    "WorldPrompt",
    "pretrain_conversations",
    "split_of",
]
