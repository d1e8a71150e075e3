"""Settings parsing: good values taken, bad ones reported and replaced by defaults."""

from __future__ import annotations

from codesearch.config import DEFAULT_BATCH_SIZE, Settings, parse_settings


def test_defaults_when_nothing_given() -> None:
    settings, errors = parse_settings(None)
    assert settings == Settings() and errors == []


def test_camel_and_snake_case_keys_and_nested_settings() -> None:
    settings, errors = parse_settings(
        {"settings": {"maxFileSize": 2048, "batch_size": 8, "exclude": ["gen/**"], "enable": False}}
    )
    assert errors == []
    assert settings.max_file_size == 2048 and settings.batch_size == 8
    assert settings.exclude == ("gen/**",) and settings.enable is False


def test_bad_values_are_reported_and_defaulted_without_losing_good_ones() -> None:
    settings, errors = parse_settings(
        {"batchSize": 0, "maxFileSize": "big", "model": 3, "exclude": "dist/**", "nonsense": 1}
    )
    assert settings.batch_size == DEFAULT_BATCH_SIZE
    assert settings.exclude == ("dist/**",)
    assert any("batchSize" in e and "between 1 and 4096" in e for e in errors)
    assert any("maxFileSize" in e for e in errors)
    assert any("model" in e and "string" in e for e in errors)
    assert any("nonsense" in e and "unknown" in e for e in errors)


def test_non_object_settings_give_one_message() -> None:
    settings, errors = parse_settings(["not", "an", "object"])
    assert settings == Settings() and len(errors) == 1


def test_vscode_style_exclude_map_and_client_keys_are_accepted() -> None:
    settings, errors = parse_settings(
        {"exclude": {"**/gen": True, "**/off": False}, "logLevel": "debug", "server": {}}
    )
    assert settings.exclude == ("**/gen",) and errors == []


def test_environment_fills_empty_model_and_store(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CODESEARCH_MODEL", "/models/x")
    monkeypatch.setenv("CODESEARCH_CACHE_DIR", "/tmp/cs")
    filled = Settings().with_env_defaults()
    assert filled.model == "/models/x" and filled.store_dir == "/tmp/cs"
    assert Settings(model="mine").with_env_defaults().model == "mine"
