"""GET /healthz: 200 once the database answers, 503 otherwise."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from domain.store.database import DATABASE_UNAVAILABLE


async def healthz(request: Request) -> JSONResponse:
    try:
        await request.app.state.runtime.db.ping()
    except DATABASE_UNAVAILABLE:
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok"})
