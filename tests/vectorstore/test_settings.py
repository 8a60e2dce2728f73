"""The one settings object: defaults, EUMA_* variables with their types, CLI flags on top, clear errors."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from common.errors import ConfigError
from common.settings import BUNDLED_MODEL, Settings, add_arguments, from_args

FLAGS = (
    "store_dir",
    "chroma_url",
    "collection",
    "data_dir",
    "embedding_model",
    "embedding_precision",
    "chunk_tokens",
    "fetch_delay",
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="euma-test")
    add_arguments(parser, FLAGS)
    return parser


def test_from_env_reads_prefixed_variables_with_their_types(tmp_path: Path) -> None:
    environ = {
        "EUMA_DATA_DIR": str(tmp_path / "env-data"),
        "EUMA_STORE_DIR": str(tmp_path / "env-store"),
        "EUMA_CHROMA_URL": "http://chroma.internal:8123",
        "EUMA_COLLECTION": "from_env",
        "EUMA_EMBEDDING_PRECISION": "fp32",
        "EUMA_CHUNK_TOKENS": "120",
        "EUMA_EMBEDDING_BATCH_SIZE": "7",
        "EUMA_FETCH_DELAY": "0.25",
        "EUMA_FETCH_TIMEOUT": "3",
        "EUMA_MAX_PAGE_BYTES": "4096",
        "EUMA_USER_AGENT": "test-agent/9",
        "OTHER_CHUNK_TOKENS": "999",  # not our prefix: ignored
    }
    settings = Settings.from_env(environ)
    assert settings.data_dir == tmp_path / "env-data" and isinstance(settings.data_dir, Path)
    assert settings.store_dir == tmp_path / "env-store" and isinstance(settings.store_dir, Path)
    assert settings.store_path == tmp_path / "env-store"
    assert settings.chroma_url == "http://chroma.internal:8123"
    assert settings.collection == "from_env"
    assert settings.embedding_precision == "fp32"
    assert settings.chunk_tokens == 120 and type(settings.chunk_tokens) is int
    assert settings.embedding_batch_size == 7 and type(settings.embedding_batch_size) is int
    assert settings.max_page_bytes == 4096 and type(settings.max_page_bytes) is int
    assert settings.fetch_delay == 0.25 and type(settings.fetch_delay) is float
    assert settings.fetch_timeout == 3.0 and type(settings.fetch_timeout) is float
    assert settings.user_agent == "test-agent/9"


def test_from_env_defaults_to_the_process_environment_and_skips_empty_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EUMA_COLLECTION", "process_env")
    monkeypatch.setenv("EUMA_CHUNK_TOKENS", "")  # set but empty: the default stands
    settings = Settings.from_env()
    assert settings.collection == "process_env"
    assert settings.chunk_tokens == Settings().chunk_tokens == 200
    assert settings.data_dir == tmp_path / "data"  # the autouse fixture's EUMA_DATA_DIR
    assert settings.embedding_model == BUNDLED_MODEL


def test_overrides_win_over_the_environment_and_none_does_not_override() -> None:
    environ = {"EUMA_COLLECTION": "env_collection", "EUMA_FETCH_DELAY": "2.5"}
    settings = Settings.from_env(environ, collection="override", fetch_delay=None)
    assert settings.collection == "override"
    assert settings.fetch_delay == 2.5


def test_cli_flags_override_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EUMA_CHUNK_TOKENS", "100")
    monkeypatch.setenv("EUMA_COLLECTION", "env_collection")
    monkeypatch.setenv("EUMA_FETCH_DELAY", "3")
    args = _parser().parse_args(
        ["--chunk-tokens", "64", "--fetch-delay", "0.5", "--store", str(tmp_path / "cli-store")]
    )
    settings = from_args(args)
    assert settings.chunk_tokens == 64 and type(settings.chunk_tokens) is int
    assert settings.fetch_delay == 0.5 and type(settings.fetch_delay) is float
    assert settings.store_dir == tmp_path / "cli-store" and isinstance(settings.store_dir, Path)
    assert settings.collection == "env_collection"  # no flag given: the environment stands
    assert settings.data_dir == tmp_path / "data"


def test_cli_help_names_each_flag_with_its_variable() -> None:
    text = _parser().format_help()
    for flag, variable in (
        ("--chunk-tokens", "EUMA_CHUNK_TOKENS"),
        ("--chroma-url", "EUMA_CHROMA_URL"),
        ("--store", "EUMA_STORE_DIR"),
    ):
        assert flag in text and variable in text
    assert "Seconds to wait between two requests" in text


def test_bad_number_in_the_environment_names_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"EUMA_CHUNK_TOKENS='lots' is not a number"):
        Settings.from_env({"EUMA_CHUNK_TOKENS": "lots"})
    with pytest.raises(ConfigError, match=r"EUMA_FETCH_DELAY='fast' is not a number"):
        Settings.from_env({"EUMA_FETCH_DELAY": "fast"})


def test_unknown_precision_lists_the_valid_values() -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"EUMA_EMBEDDING_PRECISION": "fp8"})
    assert str(info.value) == "unknown embedding precision 'fp8'; valid values: auto, fp32, bf16"
    args = _parser().parse_args(["--precision", "int4"])
    with pytest.raises(ConfigError, match="valid values: auto, fp32, bf16"):
        from_args(args)


def test_chroma_url_without_scheme_and_tiny_chunks_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"'localhost:8000' must start with http:// or https://"):
        Settings(chroma_url="localhost:8000")
    with pytest.raises(ConfigError, match="chunk_tokens must be at least 32, not 10"):
        Settings.from_env({"EUMA_CHUNK_TOKENS": "10"})
    assert Settings(chunk_tokens=32, chroma_url="https://chroma.example.org").chunk_tokens == 32


def test_bad_number_on_the_command_line_is_an_argparse_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        _parser().parse_args(["--chunk-tokens", "many"])
    assert info.value.code == 2
    assert "--chunk-tokens: invalid int value: 'many'" in capsys.readouterr().err


def test_default_data_dir_follows_xdg_data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-elsewhere"))
    assert Settings().data_dir == tmp_path / "xdg-elsewhere" / "eu-migration-assistant"
    monkeypatch.delenv("EUMA_DATA_DIR")
    assert Settings.from_env().data_dir == tmp_path / "xdg-elsewhere" / "eu-migration-assistant"
    # Without XDG_DATA_HOME (or with it empty) the XDG default under the home folder applies.
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", "")
    assert Settings().data_dir == tmp_path / "home" / ".local" / "share" / "eu-migration-assistant"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert Settings().data_dir == tmp_path / "home" / ".local" / "share" / "eu-migration-assistant"


def test_store_path_defaults_to_data_dir_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(data_dir=tmp_path / "d")
    assert settings.store_dir is None and settings.store_path == tmp_path / "d" / "store"
    moved = settings.replace(data_dir=tmp_path / "e")
    assert moved.store_path == tmp_path / "e" / "store" and settings.store_path == tmp_path / "d" / "store"
    assert settings.replace(store_dir=tmp_path / "s").store_path == tmp_path / "s"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert Settings(data_dir="~/euma").store_path == tmp_path / "home" / "euma" / "store"  # type: ignore[arg-type]


def test_settings_are_keyword_only_and_frozen(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    with pytest.raises(TypeError):
        Settings(tmp_path)  # type: ignore[call-arg]
    with pytest.raises(AttributeError):
        settings.collection = "other"  # type: ignore[misc]
