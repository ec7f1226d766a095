"""Where the store is: ``[store] url``, ``$DOCKGATE_STORE_URL`` and the default SQLite file; and the
``[access]`` and ``[audit]`` settings, validated with errors that name the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockgate.config.file import ConfigError, ConfigFile, load
from dockgate.store.url import StoreURLError, default_url, display_url, normalize_url, sqlite_path


@pytest.mark.parametrize(("url", "expected"), [
    ("sqlite:////var/lib/dockgate/dg.db", "sqlite+aiosqlite:////var/lib/dockgate/dg.db"),
    ("sqlite+aiosqlite:////x.db", "sqlite+aiosqlite:////x.db"),
    ("postgresql://u:p@db/dockgate", "postgresql+asyncpg://u:p@db/dockgate"),
    ("postgres://db:5433/dockgate", "postgresql+asyncpg://db:5433/dockgate"),
    ("postgresql+asyncpg://db/dockgate", "postgresql+asyncpg://db/dockgate"),
])
def test_normalize_url_picks_the_async_driver(url, expected):
    assert normalize_url(url) == expected


@pytest.mark.parametrize(("url", "fragment"), [
    ("mysql://db/dockgate", "unsupported store URL"),
    ("/var/lib/dockgate.db", "unsupported store URL"),
    ("sqlite://", "names no file"),
    ("sqlite:///:memory:", "names no file"),
    ("postgresql:///dockgate", "names no server"),
])
def test_bad_store_urls(url, fragment):
    with pytest.raises(StoreURLError, match=fragment):
        normalize_url(url)


def test_errors_and_displays_hide_the_password():
    with pytest.raises(StoreURLError) as caught:
        normalize_url("mysql://u:s3cret@db/x")
    assert "s3cret" not in str(caught.value)
    assert display_url("postgresql+asyncpg://u:s3cret@db/x") == "postgresql+asyncpg://u:***@db/x"


def test_default_is_a_sqlite_file_in_xdg_data_home(tmp_path):
    url = default_url({"XDG_DATA_HOME": str(tmp_path)})
    assert url == f"sqlite+aiosqlite:///{tmp_path}/dockgate/dockgate.db"
    assert sqlite_path(url) == tmp_path / "dockgate" / "dockgate.db"


def test_default_falls_back_to_local_share():
    assert sqlite_path(default_url({})) == Path.home() / ".local" / "share" / "dockgate" / "dockgate.db"


def test_store_url_precedence(tmp_path):
    configured = ConfigFile.model_validate({"store": {"url": "postgresql://db/dockgate"}})
    env = {"XDG_DATA_HOME": str(tmp_path)}
    assert ConfigFile().store.resolved_url(env) == default_url(env)
    assert configured.store.resolved_url(env) == "postgresql+asyncpg://db/dockgate"
    assert configured.store.resolved_url({**env, "DOCKGATE_STORE_URL": "sqlite:////o.db"}) == \
        "sqlite+aiosqlite:////o.db"


def test_bad_env_url_names_the_variable():
    with pytest.raises(ConfigError, match="DOCKGATE_STORE_URL: unsupported store URL"):
        ConfigFile().store.resolved_url({"DOCKGATE_STORE_URL": "redis://x"})


@pytest.mark.parametrize(("toml", "fragment"), [
    ('[store]\nurl = "mysql://db/x"\n', "store.url: unsupported store URL"),
    ('[store]\npath = "/x.db"\n', "store.path: unknown setting"),
    ('[audit]\nsecret_patterns = ["(unclosed"]\n', "audit.secret_patterns: '(unclosed' is not a regular"),
    ('[access]\ncert_users = { "CN" = 3 }\n', "access.cert_users.CN"),
])
def test_bad_settings_are_named(tmp_path, toml, fragment):
    path = tmp_path / "config.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError, match=r"config\.toml") as caught:
        load(path)
    assert fragment in str(caught.value)


def test_access_and_audit_settings_load(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[access]\ncert_users = { "build-bot.example.com" = "ci" }\n\n'
                    '[audit]\nsecret_patterns = ["(?i)license"]\n')
    config = load(path)
    assert config.access.cert_users == {"build-bot.example.com": "ci"}
    assert config.audit.secret_patterns == ["(?i)license"]
    assert ConfigFile().audit.secret_patterns is None  # None: the built-in patterns
