"""SafetyWorld: a procedural, seeded, versioned world in which harm is known exactly.

See DESIGN.md ("SafetyWorld", "Generalization axes"). The public surface:

- `SafetyWorld(seed, held_out_category)`: lexicon, prompts by split and family, axis slices
  (`axis_prompts`), gold judge.
- `WorldPrompt`: one prompt, its coordinates on every axis, and what grading it needs.
- `AXES`: the generalization axes (attack style, obfuscation, language, category).
- `GoldJudge` / `GoldVerdict`: exact verdicts on the think span and the answer span.
- `pretrain_conversations`: the unaligned base model's corpus.

Modules: `categories` (fixed vocabulary per category), `lexicon` (seeded names, recipes, surface
forms), `phrasebook` / `velan` / `language` (the three languages), `prompts` / `benign` /
`borderline` (prompt families), `axes`, `responses`, `corpus`, `world` (splits), `judge`.
"""

from harmlab.world.axes import AXES, AXIS_NAMES, Axis
from harmlab.world.benign import BenignStyle
from harmlab.world.corpus import BaseBehaviour, pretrain_conversations
from harmlab.world.judge import GoldJudge, GoldVerdict, SpanVerdict
from harmlab.world.lexicon import SURFACE_FORMS, Hazard, Lexicon, SurfaceForm, Term
from harmlab.world.prompts import FAMILIES, WorldPrompt
from harmlab.world.world import SPLITS, WORLD_VERSION, SafetyWorld, split_of

__all__ = [
    "AXES",
    "AXIS_NAMES",
    "FAMILIES",
    "SPLITS",
    "SURFACE_FORMS",
    "WORLD_VERSION",
    "Axis",
    "BaseBehaviour",
    "BenignStyle",
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
