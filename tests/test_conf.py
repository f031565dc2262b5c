"""``restflow.conf.settings``: the ``RESTFLOW`` dict, typed, checked, reloaded on change."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from restflow.conf import RestflowSettings, settings


def test_defaults_without_a_restflow_setting() -> None:
    assert settings.JSON_MAX_DEPTH == 512
    assert settings.REVALIDATE_ON_INTEGRITY_ERROR is True


def test_values_come_from_the_restflow_dict() -> None:
    with override_settings(RESTFLOW={"JSON_MAX_DEPTH": 7}):
        assert settings.JSON_MAX_DEPTH == 7
        assert settings.REVALIDATE_ON_INTEGRITY_ERROR is True


def test_a_change_is_seen_at_once_and_undone_after() -> None:
    assert settings.JSON_MAX_DEPTH == 512  # loaded and cached before the change
    with override_settings(RESTFLOW={"JSON_MAX_DEPTH": None}):
        assert settings.JSON_MAX_DEPTH is None
    assert settings.JSON_MAX_DEPTH == 512


def test_unknown_keys_are_named_with_the_known_ones() -> None:
    with override_settings(RESTFLOW={"JSON_DEPTH": 3}), pytest.raises(ImproperlyConfigured) as info:
        _ = settings.JSON_MAX_DEPTH
    assert str(info.value) == (
        "settings.RESTFLOW has unknown keys ['JSON_DEPTH']; restflow reads "
        "['COMPILED_SERIALIZERS', 'JSON_MAX_DEPTH', 'REPORT_SYNC_HOOKS', "
        "'REVALIDATE_ON_INTEGRITY_ERROR']."
    )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"JSON_MAX_DEPTH": "10"},
            "settings.RESTFLOW['JSON_MAX_DEPTH'] must be int or None, not '10'.",
        ),
        (
            {"JSON_MAX_DEPTH": True},
            "settings.RESTFLOW['JSON_MAX_DEPTH'] must be int or None, not True.",
        ),
        (
            {"REVALIDATE_ON_INTEGRITY_ERROR": 1},
            "settings.RESTFLOW['REVALIDATE_ON_INTEGRITY_ERROR'] must be bool, not 1.",
        ),
    ],
)
def test_values_of_the_wrong_type_are_refused(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ImproperlyConfigured) as info:
        RestflowSettings.from_mapping(values)
    assert str(info.value) == message


def test_a_non_dict_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="must be a dict, not list"):
        RestflowSettings.from_mapping([("JSON_MAX_DEPTH", 1)])  # type: ignore[arg-type]  # the error under test
