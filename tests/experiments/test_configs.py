"""Training configs ship inside the package: names resolve from any folder, files still win,
and the packaging metadata ships every config the experiments name."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest
from typer.testing import CliRunner

import harmlab
from harmlab import HarmlabError
from harmlab.cli import app
from harmlab.config import load_config
from harmlab.configs import shipped_training_configs, training_config_path
from harmlab.experiments.spec import shipped_experiments
from harmlab.training.config import GRPORunConfig

PACKAGE = Path(harmlab.__file__).parent


def test_every_config_an_experiment_names_resolves_from_an_empty_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no ./configs here: names must come from the package
    named = {n for e in shipped_experiments() for a in e.arms for n in (a.sft, a.grpo) if n}
    assert named and named <= set(shipped_training_configs())
    for name in named:
        path = training_config_path(name)
        assert path.is_file() and path.parent == PACKAGE / "configs"


def test_a_file_path_wins_and_an_unknown_name_lists_the_shipped_ones(tmp_path: Path) -> None:
    own = tmp_path / "sft-cold-start.yaml"
    own.write_text("seed: 3\n")
    assert training_config_path(str(own)) == own
    assert training_config_path("grpo-from-base.yaml").name == "grpo-from-base.yaml"
    with pytest.raises(HarmlabError, match="shipped: .*grpo-after-sft, .*grpo-from-base, .*sft-"):
        training_config_path("grpo-after-rl")
    with pytest.raises(HarmlabError, match="neither a file nor a shipped config"):
        training_config_path("elsewhere/sft-cold-start")  # a path, never a name


def test_the_hybrid_config_starts_from_the_sft_run_and_does_not_chain_it() -> None:
    config = load_config(GRPORunConfig, training_config_path("grpo-after-sft"))
    assert config.model == "runs/sft-cold-start"


def test_package_data_ships_the_training_and_experiment_configs() -> None:
    pyproject = tomllib.loads((PACKAGE.parents[1] / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["harmlab"]
    shipped = [p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.yaml")]
    assert shipped and all(any(fnmatch(path, glob) for glob in globs) for path in shipped)
    assert (PACKAGE / "configs" / "__init__.py").is_file()  # a package, found by setuptools


def test_harmlab_train_takes_a_shipped_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    # a bad override stops the command right after the config is found, before any training
    arguments = ["train", "sft", "--config", "sft-cold-start", "train.steps=abc"]
    result = CliRunner().invoke(app, arguments)
    assert isinstance(result.exception, HarmlabError)
    assert str(result.exception).startswith(str(PACKAGE / "configs" / "sft-cold-start.yaml"))
    assert "'train.steps' must be an integer" in str(result.exception)
