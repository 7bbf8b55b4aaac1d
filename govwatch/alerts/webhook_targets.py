"""Where a webhook may post: public addresses only, unless the operator allows more.

A webhook's URL is typed by an administrator but fetched by the server, from inside the network
the server sits in: ``http://127.0.0.1:5432/``, ``http://10.0.0.5/`` or
``http://169.254.169.254/`` (a cloud's metadata service) would make govwatch post to machines
the administrator cannot reach themselves (server-side request forgery). So a target must be
``http`` or ``https``, and every address its host resolves to must be public: not loopback,
link-local, private (RFC 1918, the shared 100.64.0.0/10), unique-local (fc00::/7), multicast,
unspecified or otherwise reserved. An IPv6 address that embeds an IPv4 one (``::ffff:10.0.0.5``)
is judged by the IPv4 address.

The check runs when a webhook is added and again at every delivery, and a delivery connects to
the very address that was checked (the HTTP client is given the address, with the name in the
``Host`` header and in TLS's server name): a name whose DNS answer changes after it was
accepted (DNS rebinding) reaches nothing it should not. Redirects are not followed (a 3xx
answer is a failed attempt), and proxies from the environment are not used.

``GOVWATCH_WEBHOOK_ALLOW`` (comma- or space-separated): host names, addresses and CIDR blocks
the operator allows even so, such as a receiver in the same intranet
(``GOVWATCH_WEBHOOK_ALLOW=hooks.gov.internal,10.20.0.0/16``). A listed name may resolve
anywhere; an address is allowed when it lies in a listed block. It is read from the server's
environment, not from the database: an administrator's web account alone cannot open the
intranet to webhooks.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

from govwatch.errors import InputError

ALLOW_ENV = "GOVWATCH_WEBHOOK_ALLOW"
SCHEMES = {"http": 80, "https": 443}
TIMEOUT_SECONDS = 10.0

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class WebhookTargetError(InputError):
    """A webhook URL that govwatch will not post to (its message names the URL and why)."""


@dataclass(frozen=True)
class Allowlist:
    hosts: frozenset[str]
    networks: tuple[Network, ...]

    def allows_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.hosts

    def allows_address(self, address: Address) -> bool:
        return any(address in network for network in self.networks)


def allowlist() -> Allowlist:
    """The operator's exceptions, from ``GOVWATCH_WEBHOOK_ALLOW`` (read at every check)."""
    hosts: set[str] = set()
    networks: list[Network] = []
    for entry in os.environ.get(ALLOW_ENV, "").replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            if "/" in entry or ":" in entry:
                raise WebhookTargetError(
                    f"环境变量 {ALLOW_ENV} 中的“{entry}”不是主机名、IP 地址或 CIDR 网段"
                ) from None
            hosts.add(entry.lower().rstrip("."))
    return Allowlist(frozenset(hosts), tuple(networks))


def blocked_kind(address: Address) -> str | None:
    """Why webhooks may not go to ``address`` (a Chinese phrase), or None when it is public."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    checks = (
        (address.is_unspecified, "未指定地址"),
        (address.is_loopback, "回环地址"),
        (address.is_link_local, "链路本地地址"),
        (address.is_multicast, "组播地址"),
        (address.is_private, "内网地址"),
        (isinstance(address, ipaddress.IPv6Address) and address.is_site_local, "站点本地地址"),
        (address.is_reserved, "保留地址"),
        (not address.is_global, "非公网地址"),
    )
    return next((kind for hit, kind in checks if hit), None)


@dataclass(frozen=True)
class Target:
    """A checked webhook URL and the addresses it may be posted to (in resolver order)."""

    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == SCHEMES[self.scheme] else f"{host}:{self.port}"


def _resolve(url: str, host: str, port: int) -> tuple[str, ...]:
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise WebhookTargetError(
            f"Webhook 地址“{url}”的主机 {host} 无法解析（{exc}）：请检查域名"
        ) from None
    found: list[str] = []
    for *_, sockaddr in answers:
        address = str(sockaddr[0]).split("%", 1)[0]  # an IPv6 scope id is not part of it
        if address not in found:
            found.append(address)
    return tuple(found)


def check_target(url: str) -> Target:
    """The target ``url`` names, when webhooks may post there; WebhookTargetError otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookTargetError(f"Webhook 地址“{url}”无效：无法解析主机或端口") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise WebhookTargetError(f"Webhook 地址“{url}”无效：应以 http:// 或 https:// 开头")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise WebhookTargetError(f"Webhook 地址“{url}”无效：缺少主机名")
    port = port or SCHEMES[scheme]
    allowed = allowlist()
    try:
        literal: Address | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    addresses = (str(literal),) if literal is not None else _resolve(url, host, port)
    if not addresses:
        raise WebhookTargetError(f"Webhook 地址“{url}”的主机 {host} 没有解析出任何地址")
    if not allowed.allows_host(host):
        for text in addresses:
            address = ipaddress.ip_address(text)
            kind = blocked_kind(address)
            if kind is not None and not allowed.allows_address(address):
                raise WebhookTargetError(
                    f"Webhook 地址“{url}”指向{kind} {text}：只允许公网地址；"
                    f"内网接收端须由运维在环境变量 {ALLOW_ENV} 中列出"
                )
    return Target(url, scheme, host, port, addresses)


def post(target: Target, body: bytes, headers: dict[str, str]) -> int:
    """POST ``body`` to the checked address itself; the HTTP status of the answer."""
    parts = urlsplit(target.url)
    address = target.addresses[0]
    netloc = f"[{address}]" if ":" in address else address
    netloc = f"{netloc}:{target.port}"
    if parts.username is not None:
        credentials = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{credentials}@{netloc}"
    pinned = urlunsplit((target.scheme, netloc, parts.path or "/", parts.query, ""))
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else None
    with httpx.Client(trust_env=False, follow_redirects=False, timeout=TIMEOUT_SECONDS) as client:
        response = client.post(
            pinned,
            content=body,
            headers={**headers, "Host": target.host_header},
            extensions=extensions,
        )
    return response.status_code
