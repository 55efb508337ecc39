"""What must hold in the database whatever happened to it: the checks of
`invoicing db check` (domain/ops/check.py), as a test assertion."""

from zoneinfo import ZoneInfo

from domain.ops.check import check_database
from domain.store.database import Database

UTC = ZoneInfo("UTC")


async def assert_consistent(db: Database, zone: ZoneInfo = UTC) -> None:
    findings = await check_database(db, zone)
    assert findings == [], [str(finding) for finding in findings]
