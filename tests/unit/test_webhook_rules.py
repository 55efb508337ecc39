"""Webhook rules without a database: URLs accepted, the address guard, signatures as a
receiver checks them, and the retry schedule."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.adapters.webhook_http import is_public
from domain.errors import InvalidInput
from domain.model import webhooks as rules
from domain.model.enums import WebhookEventType

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "url",
    ["https://erp.example.com/hooks", "http://example.com:8080/x?token=abc", " https://a.io/ "],
)
def test_http_and_https_urls_with_a_host_are_accepted(url: str) -> None:
    assert rules.check_url(url) == url.strip()


@pytest.mark.parametrize(
    "url",
    [
        "",
        "ftp://example.com/",
        "file:///etc/passwd",
        "gopher://example.com/",
        "https://user:pw@example.com/",
        "https://example.com:0/",
        "https://example.com:99999/",
        "http:///nohost",
        "https://exa mple.com/",
        "https://example.com/\r\nX-Injected: 1",
        "https://example.com/" + "a" * 2000,
    ],
)
def test_other_urls_are_refused_on_the_url_field(url: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        rules.check_url(url)
    assert refused.value.field == "url"


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.5",
        "172.16.3.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "::1",
        "fc00::1",
        "fe80::1%eth0",
        "::ffff:10.0.0.1",
        "::",
        # NAT64, 6to4 and Teredo addresses carrying a loopback or private IPv4 one
        "64:ff9b::7f00:1",
        "64:ff9b::a00:5",
        "64:ff9b:1::7f00:1",
        "2002:7f00:1::",
        "2002:c0a8:101::1",
        "2001:0:4136:e378:8000:63bf:80ff:fffe",
    ],
)
def test_non_public_addresses_are_not_public(address: str) -> None:
    assert not is_public(address)


@pytest.mark.parametrize(
    "address",
    ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111", "64:ff9b::808:808", "2002:808:808::1"],
)
def test_public_addresses_are_public(address: str) -> None:
    assert is_public(address)


def test_a_signature_verifies_with_its_secret_body_and_a_recent_timestamp_only() -> None:
    body = b'{"id":"evt_1"}'
    header = rules.signature_header(["whsec_a"], 1_700_000_000, body)
    assert header.startswith("t=1700000000,v1=") and len(header.split("v1=")[1]) == 64
    assert rules.verify("whsec_a", header, body, now=1_700_000_100)
    assert not rules.verify("whsec_b", header, body, now=1_700_000_100)
    assert not rules.verify("whsec_a", header, body + b"\n", now=1_700_000_100)
    assert not rules.verify("whsec_a", header, body, now=1_700_000_000 + 301)  # a replay
    assert not rules.verify("whsec_a", "v1=" + header.split("v1=")[1], body, now=1_700_000_000)
    both = rules.signature_header(["whsec_new", "whsec_old"], 1_700_000_000, body)
    assert rules.verify("whsec_new", both, body, now=1_700_000_000)
    assert rules.verify("whsec_old", both, body, now=1_700_000_000)


def test_retries_wait_twice_as_long_each_time_up_to_a_ceiling_for_three_days() -> None:
    limits = {
        "base": timedelta(seconds=30),
        "ceiling": timedelta(hours=6),
        "give_up_after": timedelta(hours=72),
    }
    waits = [rules.next_attempt(n, T0, T0, **limits) for n in (1, 2, 3, 4, 10, 20)]
    assert [w - T0 for w in waits if w] == [
        timedelta(seconds=30),
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
        timedelta(seconds=30 * 2**9),
        timedelta(hours=6),
    ]
    nearly = T0 + timedelta(hours=71)
    assert rules.next_attempt(20, nearly, T0, **limits) is None  # past the 72 hours


def test_an_endpoint_must_choose_at_least_one_event_type_and_each_is_kept_once() -> None:
    with pytest.raises(InvalidInput):
        rules.event_types([])
    chosen = rules.event_types(
        [WebhookEventType.INVOICE_PAID, WebhookEventType.INVOICE_GENERATED] * 2
    )
    assert rules.parse_events(rules.stored_events(chosen)) == [
        WebhookEventType.INVOICE_GENERATED,
        WebhookEventType.INVOICE_PAID,
    ]
