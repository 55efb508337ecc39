"""The parts of a Stripe event the service reads, checked before anything reads them.

A body can carry a valid signature and still not be an event we understand (a replayed
test fixture, an API version with another shape): such a body is refused with 400 and a
message naming the field, rather than failing halfway through its handling.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from domain.ports import WebhookRefused


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _PaymentError(_Part):
    message: StrictStr | None = None


class _Refund(_Part):
    id: StrictStr
    metadata: dict[StrictStr, StrictStr] = {}


class _Refunds(_Part):
    data: list[_Refund] = []


class _Object(_Part):
    """A PaymentIntent, a Charge or a Checkout Session: the fields any may carry."""

    id: StrictStr | None = None
    status: StrictStr | None = None
    metadata: dict[StrictStr, StrictStr] = {}
    currency: StrictStr | None = None
    customer: StrictStr | None = None
    payment_intent: StrictStr | None = None
    amount_received: StrictInt | None = Field(default=None, ge=0)
    amount_refunded: StrictInt | None = Field(default=None, ge=0)
    last_payment_error: _PaymentError | None = None
    refunds: _Refunds | None = None
    # A Checkout Session's
    payment_status: StrictStr | None = None
    amount_total: StrictInt | None = Field(default=None, ge=0)


class _Data(_Part):
    object: _Object


class _Event(_Part):
    id: StrictStr = Field(min_length=1, max_length=255)
    type: StrictStr = Field(min_length=1, max_length=255)
    data: _Data


def checked_event(event: Any) -> dict[str, Any]:
    """`event` reduced to the fields we read, each of the type we read it as."""
    try:
        parsed = _Event.model_validate(event)
    except ValidationError as invalid:
        problem = invalid.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "the body"
        raise WebhookRefused(f"not an event we understand: {where}: {problem['msg']}") from None
    return parsed.model_dump()
