"""Fuzzing the API over HTTP with queries and mutations generated from its own schema
(hypothesis-graphql), as staff and as a customer. Shared by the bounded run in the suite
(tests/e2e/test_fuzz.py) and the long one (bench/fuzz.py).

Every answer must be an answer: no HTTP 5xx, no "Unexpected error." (an exception we did
not handle), no traceback, SQL or driver name; a customer's answers never hold a word of
another customer's data. Afterwards the database must still be consistent.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import graphql
import httpx
from hypothesis import strategies as st
from hypothesis_graphql import mutations, nodes, queries

from domain.bootstrap import open_database
from domain.config import settings_from_mapping
from domain.model.access import SYSTEM
from domain.model.commands import GenerateRequest
from domain.model.enums import ContactType, Role
from domain.ops.migrations import upgrade_async
from domain.services import billing
from domain.services.tokens import mint_token
from graph.schema import SCHEMA_FILE
from tests.conftest import TEMPLATES
from tests.consistency import assert_consistent
from tests.e2e.processes import start_server, stop
from tests.helpers import add_contact, make_charge, make_customer

SCHEMA = SCHEMA_FILE.read_text()

# Words only the other customer's data holds: a customer's answers must never show one.
SECRETS = ("Zeta Hidden Holdings", "secret@zeta.example", "Zeta confidential work")
LEAKS = re.compile(
    r"Traceback|sqlalchemy|pymysql|asyncmy|aiomysql|aiosqlite|\bSELECT\b.+\bFROM\b|\bINSERT INTO\b",
    re.IGNORECASE | re.DOTALL,
)

# Inputs as a client might send them, the sane and the odd: dates across all of 1..9999
# with any UTC offset, amounts written every way Decimal() would take, languages Babel
# knows and does not, text from every corner of Unicode and the markup people try.
_sane_dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))
_any_dates = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))
_offsets = st.builds(
    lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-23 * 60 - 59, 23 * 60 + 59)
)
_moments = st.one_of(
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    st.datetimes(timezones=st.one_of(st.none(), st.just(UTC), _offsets)),
)
_odd_day_text = st.sampled_from(
    ["2025-02-30", "2025-1-1", "20250101", "2025-13-01", "0000-01-01", "+2025-01-01", ""]
)
_amounts = st.decimals(min_value=Decimal("-1000000"), max_value=Decimal("1000000"), places=2)
_odd_amounts = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["1_000", "１２３", "1e5", "-0.00", "-0", " 5 ", ".5", "5.", "+5", "0x10"]),
    st.integers(-(10**20), 10**20).map(str),
    st.text(alphabet="0123456789.-eE_ +", max_size=12),
)
_languages = st.one_of(
    st.sampled_from(["en", "es", "EN", " es ", "zz", "pt", "fr", "xx", "e", "eng", "en-US"]),
    st.text(alphabet=st.characters(categories=["Ll", "Lu"]), min_size=2, max_size=2),
)
_markup = st.sampled_from(
    [
        "url(file:///etc/passwd)",
        "url(/proc/self/mem)",
        "{{ 7 * 7 }}",
        "{% for i in range(10**9) %}x{% endfor %}",
        "<script>alert(1)</script>",
        "%_%\\",
        "' OR 1=1 --",
        '=HYPERLINK("http://x")',
        "a\r\nBcc: victim@example.com",
    ]
)
_unicode = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=300)
SCALARS = {
    # Mostly ids that exist (both customers' rows are among the first few), so that the
    # fuzz reaches past "not found"; sometimes anything at all.
    "ID": st.one_of(st.integers(1, 8).map(str), st.text(max_size=8)).map(nodes.String),
    "Date": st.one_of(
        _sane_dates.map(date.isoformat), _any_dates.map(date.isoformat), _odd_day_text
    ).map(nodes.String),
    "DateTime": _moments.map(lambda moment: nodes.String(moment.isoformat())),
    "Decimal": st.one_of(_amounts.map(str), _amounts.map(str), _odd_amounts).map(nodes.String),
    "String": st.one_of(_unicode, _languages, _markup, st.text(max_size=20)).map(nodes.String),
}


def operations(kind: str) -> st.SearchStrategy[str]:
    build = queries if kind == "query" else mutations
    return build(SCHEMA, custom_scalars=SCALARS, print_ast=graphql.print_ast)


@dataclass(frozen=True)
class FuzzTarget:
    staff_token: str
    customer_token: str
    customer_id: int


async def prepare(url: str, outbox: Path) -> FuzzTarget:
    """Two customers with invoices, contacts and charges; tokens for staff and the first."""
    await upgrade_async(url)
    settings = settings_from_mapping({"database": {"url": url}})
    db = open_database(settings)
    try:
        mine = await make_customer(db, "Alpha Visible Pty Ltd")
        theirs = await make_customer(db, SECRETS[0])
        await add_contact(db, mine.id, "billing@alpha.example", ContactType.BILLING)
        await add_contact(db, theirs.id, SECRETS[1], ContactType.BILLING)
        for customer, title in ((mine, "Alpha services"), (theirs, SECRETS[2])):
            for day in (3, 4):
                await make_charge(
                    db,
                    customer.id,
                    "100.00",
                    title=title,
                    created_at=datetime(2025, 1, day, tzinfo=UTC),
                )
            await billing.generate_invoice(
                db,
                settings,
                SYSTEM,
                GenerateRequest(
                    customer.id, start_date=date(2025, 1, 1), end_date=date(2025, 1, 31)
                ),
            )
            await make_charge(
                db, customer.id, "5.00", title=title, created_at=datetime(2025, 2, 2, tzinfo=UTC)
            )
        staff = (await mint_token(db, Role.STAFF, "fuzz staff")).token
        customer = (await mint_token(db, Role.CUSTOMER, "fuzz customer", mine.id)).token
    finally:
        await db.dispose()
    return FuzzTarget(staff, customer, mine.id)


@contextmanager
def fuzz_server(url: str, folder: Path) -> Iterator[tuple[httpx.Client, FuzzTarget]]:
    """`invoicing serve` on a prepared database; afterwards, the database must be
    consistent whatever the fuzz did to it."""
    target = asyncio.run(prepare(url, folder / "outbox"))
    config = folder / "crm.yaml"
    config.write_text(
        f"invoice:\n  template_dir: {TEMPLATES}\n  render_workers: 1\n"
        f"email:\n  backend: outbox\n  outbox_dir: {folder / 'outbox'}\n"
    )
    env = {"DATABASE_URL": url, "CRM_CONFIG": str(config)}
    process, base = start_server(env, folder / "server.log")
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            yield client, target
    finally:
        stop(process)
    asyncio.run(_check_consistency(url))


async def _check_consistency(url: str) -> None:
    db = open_database(settings_from_mapping({"database": {"url": url}}))
    try:
        await assert_consistent(db)
    finally:
        await db.dispose()


def server_failures(response: httpx.Response) -> list[str]:
    """What in an answer says the server failed rather than answered: a 5xx, an exception
    we did not handle ("Unexpected error."), a traceback, SQL or a driver's name."""
    failures = [f"HTTP {response.status_code}"] if response.status_code >= 500 else []
    failures += [
        f"leaks {found.group(0)[:60]!r}" for found in [LEAKS.search(response.text)] if found
    ]
    if response.status_code < 500:
        body = response.json()
        failures += [
            "Unexpected error."
            for error in body.get("errors") or []
            if error["message"] == "Unexpected error."
        ]
    return failures


def others_data(response: httpx.Response) -> list[str]:
    """Which words of the other customer's data an answer shows (a customer's: none)."""
    return [secret for secret in SECRETS if secret in response.text]
