"""An idempotency key belongs to whoever sends it, and names one exact request."""

import pytest

from domain.errors import InvalidInput
from domain.model.access import SYSTEM, Viewer
from domain.model.commands import PaymentRequest
from domain.model.enums import PaymentMethodKind, Role
from domain.store.idempotency import IdempotencyKey

ONE = Viewer(role=Role.CUSTOMER, name="portal 1", customer_id=1)
TWO = Viewer(role=Role.CUSTOMER, name="portal 2", customer_id=2)


def key(viewer: Viewer, invoice_id: int = 5, method=PaymentMethodKind.STRIPE, value="k-1"):
    request = PaymentRequest(invoice_id, method, idempotency_key=value)
    return IdempotencyKey.of("payInvoice", value, request, viewer)


def test_each_customer_and_staff_have_their_own_key_space() -> None:
    scopes = {key(ONE).scope, key(TWO).scope, key(SYSTEM).scope}
    assert scopes == {"customer:1", "customer:2", "staff"}
    other_staff = Viewer(role=Role.STAFF, name="another desk")
    assert key(other_staff).scope == key(SYSTEM).scope


def test_the_request_hash_names_the_request_but_not_the_key_or_the_sender() -> None:
    assert key(ONE).request_hash == key(TWO).request_hash
    assert key(ONE, value="k-2").request_hash == key(ONE).request_hash
    assert key(ONE, invoice_id=6).request_hash != key(ONE).request_hash
    assert key(ONE, method=PaymentMethodKind.CASH).request_hash != key(ONE).request_hash


def test_no_key_means_no_idempotency_and_a_blank_or_long_key_is_refused() -> None:
    request = PaymentRequest(5, PaymentMethodKind.CASH, reference=None)
    assert IdempotencyKey.of("payInvoice", None, request, SYSTEM) is None
    for bad in ("  ", "x" * 201):
        with pytest.raises(InvalidInput) as refused:
            IdempotencyKey.of("payInvoice", bad, request, SYSTEM)
        assert refused.value.field == "idempotency_key"
