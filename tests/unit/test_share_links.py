"""Invoice links: what was signed opens, anything changed, expired or signed with an older
secret does not."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.model.share_links import LinkRefused, sign, verify

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
LATER = NOW + timedelta(days=90)


def test_a_signed_link_names_its_invoice_until_it_expires() -> None:
    link = sign("s3cret", 344, LATER)
    assert verify("s3cret", link, NOW) == 344
    assert verify("s3cret", link, LATER - timedelta(seconds=1)) == 344
    with pytest.raises(LinkRefused, match="expired"):
        verify("s3cret", link, LATER)


@pytest.mark.parametrize(
    "change",
    [
        lambda link: link.replace("344.", "345.", 1),  # another invoice
        lambda link: link.replace(str(int(LATER.timestamp())), str(int(LATER.timestamp()) + 9)),
        lambda link: link[:-1] + ("A" if link[-1] != "A" else "B"),
        lambda link: link + "x",
        lambda link: "²" + link,
        lambda link: "9" * 5000 + link,
        lambda link: "",
    ],
)
def test_a_changed_link_is_refused(change) -> None:
    with pytest.raises(LinkRefused):
        verify("s3cret", change(sign("s3cret", 344, LATER)), NOW)


def test_a_new_secret_refuses_every_older_link() -> None:
    with pytest.raises(LinkRefused):
        verify("rotated", sign("s3cret", 344, LATER), NOW)
