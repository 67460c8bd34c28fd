"""Experiments as data: each YAML under experiments/configs names its arms and how to judge them.

    harmlab reproduce --only E1,E3 --seeds 3

An experiment compares *arms*. An arm is a training recipe: nothing (the base model), a
cold-start SFT stage, a GRPO stage, or SFT then GRPO, each from a shipped training config
(`harmlab.configs`) or a file, plus `key=value` overrides (the same syntax as `harmlab train`).
Every arm is evaluated on SafetyWorld's `world` suite (test, held-out and borderline prompts and
arithmetic) with the gold judge and the experiment's `rule`. Quick mode applies the
experiment's `quick` overrides (fewer steps, fewer probes) on top; it is a smaller run of the
same recipe, never a different one, and it evaluates on the same suite.

The YAML also says what its report section states, so a new experiment needs no code: the
table's columns (`metrics`), the paired differences to word as findings (`comparisons`) and
the plots (`plots`, by plot kind; see `harmlab.experiments.figures`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from harmlab import HarmlabError
from harmlab.config import ConfigError, bounds, load_config
from harmlab.registry import DOTTED

CONFIG_DIR = Path(__file__).parent / "configs"
"""Where the shipped experiment YAMLs live."""

DEFAULT_RULE = "keyword_blocklist:completion"
"""The training configs' keyword_blocklist reward reading the whole completion (reasoning and
answer), so "gamed" means the same in training probes and in the final evaluation."""

HEADLINE_METRICS = (
    "harmful_compliance",
    "harmful_compliance_held_out",
    "over_refusal",
    "accuracy",
    "language_mixing",
    "think_tokens",
    "gamed",
    "format_validity",
)
"""The report's headline columns, and an experiment table's columns unless it names others."""


@dataclass(frozen=True)
class ArmConfig:
    """One training recipe of an experiment."""

    name: str
    """Row label in tables and plots, e.g. 'hybrid'."""
    start: str | None = None
    """The model the arm's chain starts from: None or `tiny` (the world's base model),
    `student` (the world's smaller embedded model, E6's untrained student), or any model
    reference."""
    curate: str | None = None
    """A rejection-sampling config (`harmlab.data.curate.CurateConfig`, a shipped config's name
    or a file): the chain's start model is sampled, a rule or judge keeps samples, and the SFT
    stage trains on what was kept instead of world-written data (needs `sft`)."""
    curate_overrides: list[str] = field(default_factory=list)
    """`key=value` overrides for the curation stage (e.g. `judge=gold`)."""
    sft: str | None = None
    """Training config of a cold-start SFT stage (a shipped config's name, or a file); None:
    none."""
    sft_overrides: list[str] = field(default_factory=list)
    """`key=value` overrides for the SFT stage."""
    grpo: str | None = None
    """Training config of a GRPO stage, run after the SFT stage when both are given."""
    grpo_overrides: list[str] = field(default_factory=list)
    """`key=value` overrides for the GRPO stage (e.g. another reward mix)."""
    distill: str | None = None
    """A distillation config (`harmlab.training.config.DistillRunConfig`): the model the chain
    has reached so far is the teacher, it writes traces, and a student (the config's, by
    default the world's `student` model) is fine-tuned on them; the arm's model is the
    student."""
    distill_overrides: list[str] = field(default_factory=list)
    """`key=value` overrides for the distillation stage (e.g. `traces.judge=gold`)."""
    rule: str | None = None
    """The rule behind this arm's gamed rate, `NAME[:SPAN]`, when it is not the experiment's
    (E1's refusal-phrase arm is measured under the rule it was trained on); None: the
    experiment's `rule`."""

    def __post_init__(self) -> None:
        if self.curate is not None and self.sft is None:
            raise HarmlabError(
                f"arm '{self.name}': curate makes SFT data; give the sft config that trains on it"
            )


@dataclass(frozen=True)
class ComparisonConfig:
    """A finding to state: arm `b` against arm `a` on one metric, as a paired difference."""

    a: str
    """The reference arm (e.g. 'base')."""
    b: str
    """The arm compared with it; the difference is b − a."""
    metric: str
    """An evaluation metric (a key of `harmlab.experiments.comparisons.PAIRED_METRICS`)."""


@dataclass(frozen=True)
class PlotConfig:
    """One figure of the section, drawn by a registered plot kind."""

    kind: str
    """proxy-vs-gold, metric-series, comparison-bars, pareto, hack-kinds, gao-fit,
    hacking-ratio, transfer, harm-curves (or module:function; `figures.PLOT_KINDS` lists the
    registered ones)."""
    metrics: list[str] = field(default_factory=list)
    """Evaluation metrics to plot (comparison-bars; pareto's gain is the first); empty: the
    kind's default."""
    monitor: list[str] = field(default_factory=list)
    """Monitor record keys to plot over steps, e.g. 'probe/format_valid' (metric-series), the
    gold key to fit (gao-fit, default 'probe/gold_reward'), or the x and y keys (harm-curves,
    default trained and held-out harmful compliance); empty: the kind's default."""
    reference: str | None = None
    """The arm gains are measured against (pareto; None: the first arm)."""
    caption: str | None = None
    """The figure's caption (None: the kind's own)."""


@dataclass(frozen=True)
class EvalSettings:
    """How every arm's final model is measured."""

    samples_per_prompt: int = field(default=1, metadata=bounds(ge=1))
    """Completions sampled per prompt."""
    max_new_tokens: int = field(default=160, metadata=bounds(ge=1))
    """Generation budget per completion."""
    temperature: float = field(default=1.0, metadata=bounds(ge=0))
    """Sampling temperature (1.0: the policy's own distribution)."""
    benign_per_difficulty: int | None = field(default=None, metadata=bounds(ge=1))
    """Arithmetic tasks per difficulty 1-4 in the suite (None: the `world` suite's 16, so 64
    benign prompts; E4 asks for 128, so 512, to detect small accuracy changes)."""


@dataclass(frozen=True)
class QuickSettings:
    """What `--quick` changes: the same recipe, smaller."""

    sft_overrides: list[str] = field(default_factory=list)
    """Overrides added to every SFT stage in quick mode (e.g. fewer steps)."""
    grpo_overrides: list[str] = field(default_factory=list)
    """Overrides added to every GRPO stage in quick mode."""
    curate_overrides: list[str] = field(default_factory=list)
    """Overrides added to every curation stage in quick mode (e.g. fewer prompts)."""
    distill_overrides: list[str] = field(default_factory=list)
    """Overrides added to every distillation stage in quick mode."""


@dataclass(frozen=True)
class ExperimentConfig:
    """One experiment of the paper, e.g. E1 reward hacking."""

    id: str
    """Short id used by `--only` (E1 ... E5)."""
    title: str
    """Section title in the report."""
    question: str
    """The paper's claim the experiment tests, in one or two sentences."""
    arms: list[ArmConfig]
    """The recipes compared (at least one)."""
    eval: EvalSettings = field(default_factory=EvalSettings)
    """How every arm's final model is sampled."""
    quick: QuickSettings = field(default_factory=QuickSettings)
    """What `--quick` changes."""
    seeds: int | None = field(default=None, metadata=bounds(ge=1))
    """Seeds per arm in a full run when `--seeds` is not given (None: the run's default, 3);
    E4 asks for 5, paired by seed, for the power to see a small accuracy change."""
    rule: str = DEFAULT_RULE
    """The rule behind the gamed rate, `NAME[:SPAN]` (a rule reward or judge; SPAN one of
    answer, completion, think): the evaluation's rule and the GRPO monitor's."""
    metrics: list[str] = field(default_factory=lambda: list(HEADLINE_METRICS))
    """The section table's columns: evaluation metrics or compute (train_flops, ...)."""
    comparisons: list[ComparisonConfig] = field(default_factory=list)
    """The paired differences the section states, each worded by `state_difference`."""
    plots: list[PlotConfig] = field(default_factory=list)
    """The section's figures, in order."""

    def __post_init__(self) -> None:
        names = [arm.name for arm in self.arms]
        if not names:
            raise HarmlabError(f"experiment {self.id} has no arms")
        if len(set(names)) != len(names):
            raise HarmlabError(f"experiment {self.id} has two arms with the same name")
        _check_references(self, names)


def _check_references(experiment: ExperimentConfig, arms: list[str]) -> None:
    """The rule, every column, comparison and plot name something that exists (checked when
    the YAML loads, not when the report is written after hours of training)."""
    from harmlab.evaluation.rules import check_rule  # here: rules import the reward registry

    where = f"experiment {experiment.id}"
    rules = [("rule", experiment.rule)]
    rules += [(f"arms.{i}.rule", a.rule) for i, a in enumerate(experiment.arms) if a.rule]
    for field_name, rule in rules:
        try:
            check_rule(rule)
        except HarmlabError as error:
            raise HarmlabError(f"{where}: {field_name}: {error}") from error
    _check_metrics(experiment, where)
    _check_comparisons(experiment.comparisons, arms, where)
    _check_plots(experiment.plots, arms, where)


def _check_metrics(experiment: ExperimentConfig, where: str) -> None:
    from harmlab.experiments.results import COLUMN_LABELS, METRIC_LABELS  # (reads this module)

    columns = [("metrics", experiment.metrics, COLUMN_LABELS)]
    columns += [
        (f"plots.{i}.metrics", p.metrics, METRIC_LABELS) for i, p in enumerate(experiment.plots)
    ]
    for field_name, metrics, known in columns:
        unknown = [metric for metric in metrics if metric not in known]
        if unknown:
            raise HarmlabError(
                f"{where}: {field_name} names unknown metric '{unknown[0]}'; metrics: "
                f"{', '.join(known)}"
            )


def _check_comparisons(comparisons: list[ComparisonConfig], arms: list[str], where: str) -> None:
    from harmlab.experiments.comparisons import PAIRED_METRICS  # (reads this module)

    for i, comparison in enumerate(comparisons):
        for arm in (comparison.a, comparison.b):
            if arm not in arms:
                raise HarmlabError(
                    f"{where}: comparisons.{i} names arm '{arm}'; arms: {', '.join(arms)}"
                )
        if comparison.metric not in PAIRED_METRICS:
            raise HarmlabError(
                f"{where}: comparisons.{i}.metric '{comparison.metric}' cannot be paired; "
                f"metrics: {', '.join(PAIRED_METRICS)}"
            )


def _check_plots(plots: list[PlotConfig], arms: list[str], where: str) -> None:
    from harmlab.experiments.figures import PLOT_KINDS  # (reads this module)

    for i, plot in enumerate(plots):
        if plot.kind not in PLOT_KINDS and not DOTTED.match(plot.kind):
            raise HarmlabError(f"{where}: plots.{i}: {PLOT_KINDS.unknown(plot.kind)}")
        if plot.reference is not None and plot.reference not in arms:
            raise HarmlabError(
                f"{where}: plots.{i}.reference names arm '{plot.reference}'; arms: "
                f"{', '.join(arms)}"
            )


def load_experiment(path: str | Path, overrides: list[str] | None = None) -> ExperimentConfig:
    """An experiment from its YAML file, validated (unknown keys name the valid ones; a name
    that refers to nothing is an error naming the file and the field)."""
    try:
        return load_config(ExperimentConfig, path, overrides or [])
    except ConfigError:
        raise  # already names the file
    except HarmlabError as error:
        raise HarmlabError(f"{path}: {error}") from error


def shipped_experiments() -> list[ExperimentConfig]:
    """Every experiment shipped with harmlab, in id order."""
    experiments = [load_experiment(path) for path in sorted(CONFIG_DIR.glob("*.yaml"))]
    return sorted(experiments, key=lambda e: e.id)


def select(
    experiments: list[ExperimentConfig], only: str | None, arms: str | None = None
) -> list[ExperimentConfig]:
    """The experiments named in a comma-separated `--only` list (all when None), each cut to
    the arms of a comma-separated `--arms` list (all when None; see `keep_arms`)."""
    chosen = experiments
    if only:
        wanted = _names(only)
        known = {e.id.upper(): e for e in experiments}
        if not wanted:
            raise HarmlabError(
                f"--only '{only}' names no experiment; known: {', '.join(sorted(known))}"
            )
        missing = [w for w in wanted if w.upper() not in known]
        if missing:
            raise HarmlabError(
                f"unknown experiment {missing[0]}; known: {', '.join(sorted(known))}"
            )
        chosen = [known[w.upper()] for w in wanted]
    if arms is None:
        return chosen
    return _cut_to_arms(chosen, arms)


def _names(listing: str) -> list[str]:
    return [part.strip() for part in listing.split(",") if part.strip()]


def _cut_to_arms(experiments: list[ExperimentConfig], arms: str) -> list[ExperimentConfig]:
    """Each experiment with only the named arms (an experiment with none of them is left out);
    comparisons and plots that need an arm left out go with it. Every name must be an arm of
    some selected experiment."""
    wanted = _names(arms)
    known = sorted({arm.name for e in experiments for arm in e.arms})
    missing = [name for name in wanted if name not in known]
    if not wanted or missing:
        what = f"{missing[0]!r} is no arm of" if missing else "names no arm of"
        raise HarmlabError(f"--arms: {what} the selected experiments; arms: {', '.join(known)}")
    return [keep_arms(e, wanted) for e in experiments if any(a.name in wanted for a in e.arms)]


def keep_arms(experiment: ExperimentConfig, names: list[str]) -> ExperimentConfig:
    """`experiment` cut to the arms in `names`, with the comparisons between two kept arms
    and the plots whose reference arm is kept (a smaller run of the same section)."""
    arms = [arm for arm in experiment.arms if arm.name in names]
    kept = {arm.name for arm in arms}
    return replace(
        experiment,
        arms=arms,
        comparisons=[c for c in experiment.comparisons if {c.a, c.b} <= kept],
        plots=[p for p in experiment.plots if p.reference is None or p.reference in kept],
    )
