from pathlib import Path

import pytest
from pydantic import SecretStr

from syndication.errors import ConfigError
from syndication.settings import load_settings


def write(tmp_path: Path, text: str) -> Path:
    config = tmp_path / "config" / "syndication.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(text, encoding="utf-8")
    return config


def test_toml_values_and_paths_relative_to_project(tmp_path):
    path = write(
        tmp_path,
        """
[store]
url = "sqlite:///data/app.db"
[[feeds]]
url = "https://blog.example.dk/feed/"
[translation]
targets = ["nb", "sv", "en"]
engines = { en = "argos" }
[channels.outbox]
type = "outbox"
path = "out"
""",
    )
    settings = load_settings(path, environ={})
    assert settings.base_dir == tmp_path.resolve()
    assert settings.store_url() == f"sqlite:///{tmp_path.resolve()}/data/app.db"
    assert settings.engine_for("en") == "argos"
    assert settings.engine_for("nb") == "apertium"
    assert settings.resolve_path("out") == tmp_path.resolve() / "out"


def test_secret_in_toml_is_refused_with_the_variable_to_use(tmp_path):
    path = write(
        tmp_path,
        """
[channels.partner_no]
type = "wordpress"
url = "https://partner.example.no"
password = "hunter2 hunter2"
""",
    )
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    message = str(info.value)
    assert "channels.partner_no.password" in message
    assert "SYNDICATION__CHANNELS__PARTNER_NO__PASSWORD" in message
    assert "hunter2" not in message


def test_environment_overlays_the_toml_and_secrets_stay_secret(tmp_path):
    path = write(tmp_path, '[channels.partner_no]\ntype = "wordpress"\nurl = "https://p.example.no"\n')
    settings = load_settings(
        path,
        environ={
            "SYNDICATION__CHANNELS__PARTNER_NO__PASSWORD": "s3cret",
            "SYNDICATION__STORE__URL": "postgresql://app@db/app",
        },
    )
    assert settings.store.url == "postgresql://app@db/app"
    password = (settings.channels["partner_no"].model_extra or {})["password"]
    assert isinstance(password, SecretStr)
    assert "s3cret" not in repr(settings)
    assert settings.channel_secret("partner_no", "password") == "s3cret"


def test_norwegian_must_be_bokmal_or_nynorsk(tmp_path):
    path = write(tmp_path, '[translation]\ntargets = ["no"]\n')
    with pytest.raises(ConfigError, match="'nb'"):
        load_settings(path, environ={})


def test_unknown_keys_and_bad_toml_are_clear_errors(tmp_path):
    with pytest.raises(ConfigError, match=r"fetch\.timeoutt"):
        load_settings(write(tmp_path, "[fetch]\ntimeoutt = 3\n"), environ={})
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(write(tmp_path, "[fetch\n"), environ={})
    with pytest.raises(ConfigError, match="syndicate init"):
        load_settings(tmp_path / "nope.toml", environ={})


@pytest.mark.parametrize(
    "url", ["postgresql://app:hunter2@db.example.dk/app", "postgresql+psycopg://app:hunter2@db:5432/app"]
)
def test_a_password_in_the_store_url_of_the_toml_is_refused(tmp_path, url):
    path = write(tmp_path, f'[store]\nurl = "{url}"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    message = str(info.value)
    assert "[store] url contains a password" in message and "SYNDICATION__STORE__URL" in message
    assert "hunter2" not in message


def test_a_store_url_without_password_or_from_the_environment_is_fine(tmp_path):
    path = write(tmp_path, '[store]\nurl = "postgresql://app@db.example.dk/app"\n')
    assert load_settings(path, environ={}).store.url == "postgresql://app@db.example.dk/app"
    with_password = "postgresql://app:hunter2@db.example.dk/app"
    settings = load_settings(path, environ={"SYNDICATION__STORE__URL": with_password})
    assert settings.store.url == with_password
