"""The WebhookSender port over httpx: one POST per delivery, no redirects followed, the
answer's status kept and its body never read.

The address guard (SSRF): unless private targets are allowed, the endpoint's name is
resolved here, every address it resolves to must be public, and the request is sent to the
address that was checked (the URL's host kept in the Host header and for TLS), so a name
that resolves to a public address when checked and a private one a moment later (DNS
rebinding) still reaches only what was checked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

import httpx

from domain.ports import TargetRefused, WebhookAnswer

USER_AGENT = "Invoicing-Webhooks/1.0"


_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052's well-known prefix
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: a network's own


def is_public(address: str) -> bool:
    """An address on the public internet: not loopback, private, link-local (cloud metadata
    at 169.254.169.254), shared, multicast, reserved or unspecified, in IPv4 or IPv6.

    IPv6 addresses that carry an IPv4 one (mapped, NAT64, 6to4, Teredo) are judged by the
    IPv4 address they lead to: Python calls 64:ff9b::7f00:1 and 2002:7f00:1:: global, but
    where a NAT64 or 6to4 route exists they reach 127.0.0.1."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64_LOCAL:
            return False  # how it embeds IPv4 is the local network's choice: never public
        embedded = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
        if ip in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        carried = [v4 for v4 in embedded if v4 is not None]
        if carried:
            return all(v4.is_global and not v4.is_multicast for v4 in carried)
    return ip.is_global and not ip.is_multicast


class HttpWebhookSender:
    def __init__(self, *, timeout_seconds: float, allow_private_targets: bool) -> None:
        self.timeout_seconds = timeout_seconds
        self.allow_private_targets = allow_private_targets
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                follow_redirects=False,
                timeout=httpx.Timeout(self.timeout_seconds),
                trust_env=False,  # never through a proxy the environment names
                headers={"User-Agent": USER_AGENT},
            )
        return self._client

    async def _checked_address(self, url: str) -> str | None:
        """The public address to send to, or None when any address may be used."""
        if self.allow_private_targets:
            return None
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            found = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except (socket.gaierror, UnicodeError):
            raise TargetRefused(f"{host} cannot be resolved") from None
        addresses = sorted({str(info[4][0]) for info in found})
        if not addresses:
            raise TargetRefused(f"{host} cannot be resolved")
        private = [address for address in addresses if not is_public(address)]
        if private:
            raise TargetRefused(
                f"{host} leads to a non-public address ({private[0]}); webhooks go to the "
                "public internet only (webhooks.allow_private_targets)"
            )
        return addresses[0]

    async def check_target(self, url: str) -> None:
        await self._checked_address(url)

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> WebhookAnswer:
        try:
            address = await self._checked_address(url)
        except TargetRefused as refused:
            return WebhookAnswer(None, f"refused: {refused}")
        sent_headers = {**headers, "Content-Type": "application/json"}
        extensions: dict[str, str] = {}
        target = url
        if address is not None:
            parts = urlsplit(url)
            pinned = f"[{address}]" if ":" in address else address
            netloc = pinned if parts.port is None else f"{pinned}:{parts.port}"
            target = urlunsplit(parts._replace(netloc=netloc))
            sent_headers["Host"] = parts.netloc
            extensions["sni_hostname"] = parts.hostname or ""
        try:
            async with asyncio.timeout(self.timeout_seconds):
                request = self._http().build_request(
                    "POST", target, content=body, headers=sent_headers, extensions=extensions
                )
                response = await self._http().send(request, stream=True)
                await response.aclose()  # the status is the answer; the body is not read
        except (TimeoutError, httpx.TimeoutException):
            return WebhookAnswer(None, f"no answer within {self.timeout_seconds:g} s")
        except httpx.ConnectError:
            return WebhookAnswer(None, "could not connect")
        except httpx.HTTPError as error:
            return WebhookAnswer(None, f"{type(error).__name__}: the connection failed")
        return WebhookAnswer(response.status_code)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
