"""What every command shares: the settings, a runtime for the command's work, and failures
printed as one line starting with "error:" rather than a traceback."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, TypeVar

import click

from domain.bootstrap import Runtime
from domain.config import ConfigError, Settings, load_settings
from domain.errors import DomainError

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


def one_line(text: str, limit: int = 300) -> str:
    """A message as one line of at most `limit` characters: what a terminal shows."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def settings_of(ctx: click.Context) -> Settings:
    found: Settings = ctx.ensure_object(dict).setdefault("settings", load_settings())
    return found


def with_runtime(settings: Settings, work: Callable[[Runtime], Awaitable[T]]) -> T:
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
        except ConfigError as error:
            raise click.ClickException(f"configuration: {error}") from None
        except DomainError as error:
            raise click.ClickException(error.message) from None
        except OSError as error:
            raise click.ClickException(str(error)) from None
        except Exception as error:  # database drivers raise many kinds; name it, no trace
            if type(error).__module__.startswith(("sqlalchemy", "pymysql", "aiomysql", "sqlite3")):
                raise click.ClickException(f"database: {str(error).splitlines()[0]}") from None
            raise

    return wrapper  # type: ignore[return-value]
