"""Fixtures the API tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from domain.bootstrap import Runtime
from tests.api.test_payments import with_stripe
from tests.fakes.stripe_server import FakeStripe
from tests.helpers import Api


@pytest.fixture
async def shop(
    api: Api, runtime: Runtime, stripe_fake: FakeStripe
) -> AsyncIterator[tuple[Api, Runtime]]:
    """The API, with Stripe configured against the local fake, as the customer's browser
    reaches it: the invoice page sends the browser on to the fake's hosted page, and only
    there."""
    async with with_stripe(
        api, runtime, stripe_fake, "https://crm.example.test", checkout_origin=stripe_fake.url
    ) as ready:
        yield ready
