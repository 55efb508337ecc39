"""What every command shares: the settings, a runtime for the command's work, and failures
printed as one line starting with "error:" rather than a traceback."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Mapping
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.engine import make_url

from domain.bootstrap import Runtime
from domain.config import DEFAULT_CONFIG_FILE, ConfigError, Settings, load_settings
from domain.errors import DomainError

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


def one_line(text: str, limit: int = 300) -> str:
    """A message as one line of at most `limit` characters: what a terminal shows."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# The project folder: where crm_config.yaml and var/ live when the command is run elsewhere.
PROJECT = Path(__file__).resolve().parents[1]


def settings_of(ctx: click.Context) -> Settings:
    found: Settings | None = ctx.ensure_object(dict).get("settings")
    if found is None:
        found = ctx.obj["settings"] = discovered_settings(os.environ, Path.cwd())
    return found


def discovered_settings(environ: Mapping[str, str], here: Path) -> Settings:
    """The settings a command run in `here` means: $CRM_CONFIG; else ./crm_config.yaml;
    else the project's, with its relative SQLite path read from the project folder (run
    from elsewhere, the command must not make an empty ./var/invoicing.db). With none of
    these and no DATABASE_URL, it says so rather than guess."""
    if not uses_the_projects_settings(environ, here):
        return load_settings(environ=environ)
    project_file = PROJECT / DEFAULT_CONFIG_FILE
    if project_file.is_file():
        settings = load_settings(project_file, environ=environ)
        if not environ.get("DATABASE_URL"):
            settings = _sqlite_from(settings, PROJECT)
        return _folders_from(settings, PROJECT)
    if environ.get("DATABASE_URL"):
        return load_settings(environ=environ)
    raise click.ClickException(
        f"no {DEFAULT_CONFIG_FILE} here or in {PROJECT}, and neither CRM_CONFIG nor "
        "DATABASE_URL is set: run from the project folder, or set one of them"
    )


def uses_the_projects_settings(environ: Mapping[str, str], here: Path) -> bool:
    """Whether a command run in `here` reads the project's crm_config.yaml from afar."""
    return not environ.get("CRM_CONFIG") and not (here / DEFAULT_CONFIG_FILE).is_file()


def _folders_from(settings: Settings, folder: Path) -> Settings:
    """The project's relative folders (its templates, its outbox) read from the project."""

    def absolute(path: str) -> str:
        return path if not path or Path(path).is_absolute() else str(folder / path)

    invoice = settings.invoice.model_copy(
        update={"template_dir": absolute(settings.invoice.template_dir)}
    )
    email = settings.email.model_copy(update={"outbox_dir": absolute(settings.email.outbox_dir)})
    return settings.model_copy(update={"invoice": invoice, "email": email})


def _embedded_file(url: str) -> Path | None:
    """The file of an embedded (SQLite) database; None for a server or in-memory one."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _sqlite_from(settings: Settings, folder: Path) -> Settings:
    file = _embedded_file(settings.database.url)
    if file is None or file.is_absolute():
        return settings  # a server database, or an absolute path already
    url = make_url(settings.database.url).set(database=str(folder / file))
    database = settings.database.model_copy(
        update={"url": url.render_as_string(hide_password=False)}
    )
    return settings.model_copy(update={"database": database})


def require_database(settings: Settings) -> None:
    """An embedded database must exist before anything but `db upgrade` opens it: opening
    a missing file would create an empty one, and every command then fails on its tables."""
    file = _embedded_file(settings.database.url)
    if file is not None and not file.is_file():
        raise click.ClickException(
            f"no database at {file}: run `invoicing db upgrade` first (or set "
            "DATABASE_URL / CRM_CONFIG to the one you mean)"
        )


def with_runtime(settings: Settings, work: Callable[[Runtime], Awaitable[T]]) -> T:
    require_database(settings)

    async def run() -> T:
        runtime = Runtime.open(settings)
        try:
            return await work(runtime)
        finally:
            await runtime.close()

    return asyncio.run(run())


def clear_errors(command: F) -> F:
    """Known failures as one line, not a traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except click.ClickException:
            raise
        except ConfigError as error:
            raise click.ClickException(one_line(f"configuration: {error}")) from None
        except DomainError as error:
            raise click.ClickException(one_line(error.message)) from None
        except OSError as error:
            raise click.ClickException(one_line(str(error))) from None
        except Exception as error:  # database drivers raise many kinds; name it, no trace
            if type(error).__module__.startswith(("sqlalchemy", "asyncmy", "pymysql", "sqlite3")):
                said = str(error).splitlines()[0] if str(error) else type(error).__name__
                if "no such table" in said or "doesn't exist" in said:
                    said += " (run `invoicing db upgrade`)"
                raise click.ClickException(one_line(f"database: {said}")) from None
            raise

    return wrapper  # type: ignore[return-value]
