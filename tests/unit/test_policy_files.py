"""Every shipped policy file validates, and each YAML file in config/ has a loader."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from config.policy import POLICY_FILES, load_policies
from config.settings import DEFAULT_POLICY_DIR
from domain.errors import ConfigurationError


def test_shipped_policies_validate() -> None:
    policies = load_policies(DEFAULT_POLICY_DIR)
    assert policies.catalogue.items
    assert max(policies.reminders.licence_expiry) >= 90


def test_every_yaml_file_is_a_known_policy() -> None:
    shipped = {p.name for p in DEFAULT_POLICY_DIR.glob("*.yaml")}
    assert shipped == set(POLICY_FILES)


def test_every_policy_file_cites_its_sources() -> None:
    for name in POLICY_FILES:
        text = (DEFAULT_POLICY_DIR / name).read_text(encoding="utf-8")
        assert any(mark in text for mark in ("GB ", "条例", "法", "source", "Source")), name


@pytest.mark.parametrize("name", POLICY_FILES)
def test_a_misspelt_key_in_any_file_stops_the_start(name: str, tmp_path: Path) -> None:
    for file in POLICY_FILES:
        shutil.copy(DEFAULT_POLICY_DIR / file, tmp_path / file)
    path = tmp_path / name
    path.write_text(
        path.read_text(encoding="utf-8") + "\nunexpected_key_xyz: 1\n", encoding="utf-8"
    )
    with pytest.raises(ConfigurationError, match="unexpected_key_xyz"):
        load_policies(tmp_path)
