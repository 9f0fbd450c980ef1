"""A one-shot pass runs without Prefect's flow-run heartbeats unless the operator set them: the
heartbeat thread sleeps in 1 s steps and the flow waits for it at its end."""

from __future__ import annotations

import pytest
from prefect.settings import get_current_settings

from flows.nightly import HEARTBEAT_SETTINGS, one_shot_without_heartbeats


def test_heartbeats_off_inside_a_one_shot_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in HEARTBEAT_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    before = get_current_settings().flows.heartbeat_frequency
    with one_shot_without_heartbeats():
        assert get_current_settings().flows.heartbeat_frequency is None
    assert get_current_settings().flows.heartbeat_frequency == before


@pytest.mark.parametrize("name", HEARTBEAT_SETTINGS)
def test_an_operators_heartbeat_setting_wins(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, "60")
    with one_shot_without_heartbeats():
        # The environment was read when the settings were made; the context leaves them alone.
        assert get_current_settings().flows.heartbeat_frequency is not None
