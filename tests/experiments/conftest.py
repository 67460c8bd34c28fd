"""Fixtures of the experiments tests: arms with scripted samples (see scripted_arms.py)."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
from scripted_arms import ArmFactory, write_arm


@pytest.fixture()
def make_arm(tmp_path: Path) -> ArmFactory:
    """make_arm(name, {seed: rows}, curves=[records], training=[summary]) -> ArmResult."""
    return partial(write_arm, tmp_path / "arms")
