from decimal import Decimal
from pathlib import Path

import pytest

from domain.config import ConfigError, Settings, load_settings

REPO = Path(__file__).resolve().parents[2]


def test_the_documented_config_file_holds_exactly_the_defaults_but_the_demos_late_fee() -> None:
    shipped = load_settings(REPO / "crm_config.yaml", environ={})
    # Fees are off by default; the demo charges the 2% a month its templates always printed.
    assert shipped.dunning.late_fee_percent_per_month == 2
    demo = Settings().dunning.model_copy(update={"late_fee_percent_per_month": Decimal(2)})
    assert shipped == Settings().model_copy(update={"dunning": demo})


def test_a_partial_file_keeps_the_other_defaults(tmp_path: Path) -> None:
    custom = tmp_path / "custom.yaml"
    custom.write_text(
        "business:\n  currency_symbol: '€'\ninvoice:\n  pdf_cache:\n    max_age_days: 7\n"
    )
    settings = load_settings(custom, environ={})
    assert settings.business.currency_symbol == "€"
    assert settings.business.name == Settings().business.name
    assert settings.invoice.pdf_cache.max_age_days == 7
    assert settings.invoice.pdf_cache.max_idle_days == 30


def test_crm_config_names_the_file_and_database_url_overrides_it(tmp_path: Path) -> None:
    custom = tmp_path / "custom.yaml"
    custom.write_text("database:\n  url: sqlite+aiosqlite:///from-file.db\n")
    from_file = load_settings(environ={"CRM_CONFIG": str(custom)})
    assert from_file.database.url == "sqlite+aiosqlite:///from-file.db"
    overridden = load_settings(
        environ={"CRM_CONFIG": str(custom), "DATABASE_URL": "mysql+asyncmy://u:p@h/db"}
    )
    assert overridden.database.url == "mysql+asyncmy://u:p@h/db"


def test_a_mysql_url_naming_the_earlier_driver_is_served_by_asyncmy() -> None:
    settings = load_settings(environ={"DATABASE_URL": "mysql+aiomysql://u:p@h:3306/db"})
    assert settings.database.url == "mysql+asyncmy://u:p@h:3306/db"


def test_a_database_url_of_another_driver_is_refused_naming_the_ones_served() -> None:
    with pytest.raises(ConfigError, match=r"database\.url.*mysql\+asyncmy://"):
        load_settings(environ={"DATABASE_URL": "postgresql+asyncpg://u:p@h/db"})


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ("invoice:\n  number_format: 'INV-{customer}'\n", "invoice.number_format"),
        ("business:\n  timezone: Mars/Olympus\n", "business.timezone"),
        ("business:\n  currency_code: dollars\n", "business.currency_code"),
        ("database:\n  url: postgresql://x/y\n", "database.url"),
        ("server:\n  port: 99999\n", "server.port"),
        ("email:\n  backend: pigeon\n", "email.backend"),
        ("invoice:\n  templte_filename: x.html\n", "invoice.templte_filename"),
    ],
)
def test_a_bad_value_is_refused_naming_its_key(tmp_path: Path, content: str, named: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(content)
    with pytest.raises(ConfigError) as refused:
        load_settings(bad, environ={})
    assert named in str(refused.value)


def test_broken_yaml_is_reported_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("business:\n  name: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML at line"):
        load_settings(bad, environ={})


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "nope.yaml", environ={})


def test_secrets_never_show_in_the_settings_text(tmp_path: Path) -> None:
    settings = load_settings(
        environ={"CRM_CONFIG": str(REPO / "crm_config.yaml"), "STRIPE_SECRET_KEY": "sk_test_hush"}
    )
    assert settings.stripe.secret_key.get_secret_value() == "sk_test_hush"
    assert "sk_test_hush" not in repr(settings)
    assert "sk_test_hush" not in str(settings.model_dump())


def test_the_documented_config_file_names_every_key() -> None:
    import yaml
    from pydantic import BaseModel

    def keys(model: type[BaseModel], prefix: str = "") -> set[str]:
        found = set()
        for name, field in model.model_fields.items():
            kind = field.annotation
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                found |= keys(kind, f"{prefix}{name}.")
            else:
                found.add(prefix + name)
        return found

    def documented(mapping: dict, prefix: str = "") -> set[str]:
        found = set()
        for name, value in mapping.items():
            if isinstance(value, dict):
                found |= documented(value, f"{prefix}{name}.")
            else:
                found.add(prefix + name)
        return found

    written = documented(yaml.safe_load((REPO / "crm_config.yaml").read_text()))
    assert keys(Settings) - written == set()


def test_every_key_can_come_from_the_environment_over_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    custom = tmp_path / "custom.yaml"
    custom.write_text("business:\n  name: From the file\n  currency_code: USD\n")
    monkeypatch.setenv("CRM_BUSINESS__CURRENCY_CODE", "EUR")
    monkeypatch.setenv("CRM_DATABASE__URL", "sqlite+aiosqlite:///nested.db")
    settings = load_settings(custom, environ={})
    # One key from the environment, the rest of the section still from the file.
    assert (settings.business.currency_code, settings.business.name) == ("EUR", "From the file")
    assert settings.database.url == "sqlite+aiosqlite:///nested.db"
    # The short name deployments already set wins over the nested one.
    short = load_settings(custom, environ={"DATABASE_URL": "sqlite+aiosqlite:///short.db"})
    assert short.database.url == "sqlite+aiosqlite:///short.db"
    # The defaults alone never read the environment.
    assert Settings().business.currency_code == "USD"


def test_a_bad_environment_value_is_refused_naming_its_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CRM_SERVER__PORT", "99999")
    with pytest.raises(ConfigError) as refused:
        load_settings(environ={})
    assert "server.port" in str(refused.value)
