import json

import pytest

from core.config import ConfigError, load_config, parse_config


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = load_config()
    assert cfg.models.embedding == "bongsoo/kpf-sbert-128d-v1"
    assert cfg.indexer.segment_max_s == 8.0
    assert cfg.slack.command == "/search"


def test_example_config_is_valid_and_documents_every_key():
    from pathlib import Path

    from core.config import Config

    example = json.loads((Path(__file__).resolve().parents[2] / "config.example.json").read_text())
    cfg = parse_config(example, "config.example.json")

    def keys(model, prefix=""):
        for name, field in type(model).model_fields.items():
            if field.exclude:
                continue
            value = getattr(model, name)
            if hasattr(type(value), "model_fields"):
                yield from keys(value, f"{prefix}{name}.")
            else:
                yield f"{prefix}{name}"

    def documented(data, prefix=""):
        for k, v in data.items():
            if k.startswith("_"):
                continue
            if isinstance(v, dict):
                yield from documented(v, f"{prefix}{k}.")
            else:
                yield f"{prefix}{k}"

    assert set(keys(Config())) <= set(documented(example)), "config.example.json misses keys"
    assert cfg is not None


def test_wrong_type_names_the_key(tmp_path):
    f = tmp_path / "c.json"
    f.write_text(json.dumps({"faces": {"threshold": "high"}}))
    with pytest.raises(ConfigError) as err:
        load_config(f)
    assert "faces.threshold" in str(err.value)


def test_unknown_key_is_reported_with_its_path(tmp_path):
    f = tmp_path / "c.json"
    f.write_text(json.dumps({"slack": {"bot_tokn": "x"}}))
    with pytest.raises(ConfigError) as err:
        load_config(f)
    assert "slack.bot_tokn" in str(err.value) and "unknown key" in str(err.value)


def test_invalid_json_gives_line_and_column(tmp_path):
    f = tmp_path / "c.json"
    f.write_text('{"data_dir": "x",\n "public_url": }')
    with pytest.raises(ConfigError) as err:
        load_config(f)
    assert "line 2" in str(err.value)


def test_named_missing_file_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("MVSE_CONFIG", str(tmp_path / "nope.json"))
    with pytest.raises(ConfigError) as err:
        load_config()
    assert "nope.json" in str(err.value)


def test_env_var_names_the_file_and_relative_paths_resolve_beside_it(tmp_path, monkeypatch):
    f = tmp_path / "conf" / "c.json"
    f.parent.mkdir()
    f.write_text(json.dumps({"data_dir": "store"}))
    monkeypatch.setenv("MVSE_CONFIG", str(f))
    cfg = load_config()
    assert cfg.data_path == (tmp_path / "conf" / "store").resolve()


def test_secrets_are_not_in_repr():
    cfg = parse_config({"slack": {"bot_token": "xoxb-SECRET", "signing_secret": "SIGN"},
                        "gemini": {"api_key": "GKEY"}, "auth": {"token": "TOKEN-0123456789abcdef"},
                        "database_url": "postgresql://u:PASS@h/db"})
    text = repr(cfg) + str(cfg)
    for secret in ("xoxb-SECRET", "SIGN", "GKEY", "TOKEN-0123456789abcdef", "PASS"):
        assert secret not in text


def test_a_short_access_token_is_refused_with_the_fix():
    with pytest.raises(ConfigError) as err:
        parse_config({"auth": {"token": "a"}})
    assert "auth.token" in str(err.value) and "at least 16 characters" in str(err.value)
    assert "secrets.token_urlsafe" in str(err.value)
