"""One registry mechanism for rewards, judges, models, suites and formats (harmlab.registry).

Each kind: built-ins resolve without anyone importing their module first, a user registration
through the decorator works, `package.module:attribute` works, and an unknown name fails with
one line that lists the registered names.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harmlab import HarmlabError
from harmlab.data import FORMATS, SUITES, ColumnMapping, PromptRecord, PromptSet, load_suite
from harmlab.data.suites import SuiteOptions
from harmlab.evaluation.judges import JUDGES, JudgeContext, judge_factory, make_judge
from harmlab.evaluation.judges.strings import REFUSAL_LISTS, RefusalStringJudge
from harmlab.models.resolve import MODELS, resolve_model_path
from harmlab.registry import Registry
from harmlab.rewards.registry import REWARDS, RewardSpec, build_reward

ALL = {"reward": REWARDS, "judge": JUDGES, "model": MODELS, "suite": SUITES, "format": FORMATS}
PLUGIN = "harmlab_registry_test_plugin"


def _model_folder(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "config.json").write_text("{}")
    (path / "model.safetensors").write_bytes(b"")
    return path


@pytest.fixture()
def scratch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registrations made by a test vanish after it (the registries are process-wide)."""
    for registry in ALL.values():
        monkeypatch.setattr(registry, "_entries", dict(registry._entries))
        monkeypatch.setattr(registry, "_builtins", dict(registry._builtins))


@pytest.fixture()
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A user's module, importable by name, with one entry of each kind."""
    folder = _model_folder(tmp_path / "my-model")
    source = f"""
        from harmlab.data import ColumnMapping, PromptRecord, PromptSet
        from harmlab.evaluation.judges.strings import RefusalStringJudge

        LAYOUT = ColumnMapping(text="question")

        def brevity(prompts, completions, **columns):
            return [1.0 / (1 + len(c.split())) for c in completions]

        def judge(argument, context):
            return RefusalStringJudge(argument or "gcg")

        def model():
            return {str(folder)!r}

        def suite(options):
            return PromptSet("mine", (PromptRecord(id=str(options.world_seed), text="hi"),))
    """
    (tmp_path / f"{PLUGIN}.py").write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield folder
    sys.modules.pop(PLUGIN, None)


# --- the mechanism --------------------------------------------------------------------------


def test_builtins_are_imported_on_first_lookup_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "harmlab_registry_lazy.py").write_text("VALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "harmlab_registry_lazy", raising=False)
    numbers = Registry[int]("number", {"answer": "harmlab_registry_lazy:VALUE"})
    assert "answer" in numbers and numbers.names() == ["answer"]
    assert "harmlab_registry_lazy" not in sys.modules
    assert numbers.get("answer") == 42
    assert "harmlab_registry_lazy" in sys.modules


def test_registration_replaces_a_builtin_of_the_same_name() -> None:
    numbers = Registry[int]("number", {"answer": "no_such_module_anywhere:VALUE"})
    numbers.add("answer", 7)
    assert numbers.get("answer") == 7 and numbers.names() == ["answer"]


# --- each kind: built-ins without import side effects ---------------------------------------

# The rewards package re-exports every reward for convenience, so the registry module is
# loaded with a bare package in its place: that shows the registry itself needs none of them.
BARE_REWARDS = """
import importlib.util, types
spec = importlib.util.find_spec("harmlab.rewards")
package = types.ModuleType("harmlab.rewards")
package.__path__ = list(spec.submodule_search_locations)
sys.modules["harmlab.rewards"] = package
"""


@pytest.mark.parametrize(
    ("setup", "lookup", "module", "expected"),
    [
        (
            BARE_REWARDS + "from harmlab.rewards.registry import REWARDS",
            "REWARDS.get('format').__name__",
            "harmlab.rewards.rules",
            "format_reward",
        ),
        (
            "from harmlab.evaluation.judges import make_judge",
            "make_judge('refusal-string:gcg').name",
            "harmlab.evaluation.judges.strings",
            "refusal-string:gcg",
        ),
        (
            "from harmlab.models.resolve import MODELS",
            "MODELS.get('tiny').__name__",
            "harmlab.models.embedded",
            "ensure_tiny_model",
        ),
        # Suites and formats define their built-ins in the registry's own module.
        (
            "from harmlab.data.suites import SUITES",
            "SUITES.get('world-heldout').__name__",
            "harmlab.data.suites",
            "world_heldout",
        ),
        (
            "from harmlab.data.formats import FORMATS",
            "FORMATS.get('harmbench').text",
            "harmlab.data.formats",
            "Behavior",
        ),
    ],
    ids=["reward", "judge", "model", "suite", "format"],
)
def test_builtin_resolves_in_a_fresh_interpreter(
    setup: str, lookup: str, module: str, expected: str
) -> None:
    script = f"import sys\n{setup}\nbefore = {module!r} in sys.modules\nprint(before, {lookup})"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    before, value = done.stdout.split()
    assert value == expected
    own_module = module in ("harmlab.data.suites", "harmlab.data.formats")
    assert before == str(own_module)


@pytest.mark.parametrize("kind", ALL)
def test_every_builtin_name_resolves(kind: str) -> None:
    registry = ALL[kind]
    for name in registry.names():
        assert registry.get(name) is not None, name


# --- each kind: user registration by decorator ----------------------------------------------


@pytest.mark.usefixtures("scratch")
def test_decorator_adds_a_reward_a_judge_a_model_and_a_suite(tmp_path: Path) -> None:
    @REWARDS.register("test-brevity")
    def brevity(prompts: list[str], completions: list[str], **columns: Any) -> list[float]:
        return [float(len(c)) for c in completions]

    @JUDGES.register("test-strings")
    def strings(argument: str | None, context: JudgeContext) -> RefusalStringJudge:
        return RefusalStringJudge(argument or "xstest")

    folder = _model_folder(tmp_path / "model")
    MODELS.register("test-model")(lambda: folder)

    @SUITES.register("test-suite")
    def suite(options: SuiteOptions) -> PromptSet:
        return PromptSet("test-suite", (PromptRecord(id="1", text="hello"),))

    assert build_reward(RewardSpec("test-brevity"))(["q"], ["abc"]) == [3.0]
    judge = make_judge("test-strings:gcg")
    assert judge.name == "test-strings:gcg"
    assert judge.judge([]) == [] and "test-strings" in JUDGES.names()
    assert resolve_model_path("test-model") == folder
    assert [r.text for r in load_suite("test-suite").records] == ["hello"]


@pytest.mark.usefixtures("scratch")
def test_added_format_reads_a_prompt_file(tmp_path: Path) -> None:
    FORMATS.add("test-questions", ColumnMapping(text="question"))
    path = tmp_path / "mine.jsonl"
    path.write_text('{"question": "why?"}\n')
    assert [r.text for r in load_suite(str(path), file_format="test-questions").records] == ["why?"]


# --- each kind: the module:attribute escape hatch -------------------------------------------


def test_module_attribute_names_an_entry_of_every_kind(plugin: Path, tmp_path: Path) -> None:
    reward = build_reward(RewardSpec(f"{PLUGIN}:brevity"))
    assert reward(["q"], ["one two three"]) == [0.25]
    judge = make_judge(f"{PLUGIN}:judge:advbench")
    assert judge.name == f"{PLUGIN}:judge:advbench"
    assert isinstance(judge, RefusalStringJudge) and judge.refusals == REFUSAL_LISTS["advbench"]
    assert resolve_model_path(f"{PLUGIN}:model") == plugin
    suite = load_suite(f"{PLUGIN}:suite", SuiteOptions(world_seed=5))
    assert [r.id for r in suite.records] == ["5"]
    path = tmp_path / "mine.jsonl"
    path.write_text('{"question": "why?"}\n')
    loaded = load_suite(str(path), file_format=f"{PLUGIN}:LAYOUT")
    assert [r.text for r in loaded.records] == ["why?"]


@pytest.mark.parametrize(
    ("spec", "argument"),
    [
        ("gold", None),
        ("refusal-string:gcg", "gcg"),
        ("embedding:/runs/judge:v2", "/runs/judge:v2"),  # a registered name owns the rest
        ("harmlab.evaluation.judges.strings:refusal_string_judge", None),
        ("harmlab.evaluation.judges.strings:refusal_string_judge:gcg", "gcg"),
    ],
)
def test_judge_spec_splits_factory_and_argument(spec: str, argument: str | None) -> None:
    assert judge_factory(spec)[1] == argument


# --- each kind: errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resolve", "message"),
    [
        (lambda: build_reward(RewardSpec("nope")), "unknown reward 'nope'; registered: accuracy, "),
        (lambda: make_judge("nope"), "unknown judge 'nope'; registered: audit, embedding, gold, "),
        (lambda: resolve_model_path("nope"), "model 'nope' is not a local folder (registered: "),
        (lambda: load_suite("nope"), "unknown suite 'nope'; registered: advbench, "),
        (lambda: FORMATS.get("nope"), "unknown format 'nope'; registered: advbench, "),
        (lambda: make_judge("refusal_string:gcg"), "judge 'refusal_string:gcg' names nothing"),
        (lambda: build_reward(RewardSpec("math:pi")), "reward 'math:pi' names a float object"),
        (lambda: FORMATS.get("math:pi"), "format 'math:pi' names a float object, not a format"),
    ],
    ids=["reward", "judge", "model", "suite", "format", "typo", "not-callable", "not-mapping"],
)
def test_unknown_references_name_what_exists(resolve: Any, message: str) -> None:
    with pytest.raises(HarmlabError) as error:
        resolve()
    text = str(error.value)
    assert text.startswith(message) and "\n" not in text
    if "names nothing" in message:
        assert "registered: audit, embedding, gold, " in text  # a typo'd name still lists the names
