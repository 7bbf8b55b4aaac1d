"""HTTP for the crawler: robots.txt, the rate limit, retries, timeouts, redirects, conditions.

Every request a crawl makes goes through :class:`Fetcher`, which

- asks the host's robots.txt first (RFC 9309 through :mod:`urllib.robotparser`: a 4xx answer
  allows everything, a 5xx or no answer forbids everything, ``Crawl-delay`` and
  ``Request-rate`` slow the pace further), and checks every redirect hop against it too;
- waits for its turn on the host's :class:`~govwatch.guides.crawl.pacing.Pacer` before every
  attempt and every redirect hop, so the configured rate holds for all requests together;
- retries answers 429, 500, 502, 503, 504, timeouts and broken connections up to ``retries``
  times, waiting ``backoff_seconds * 2**attempt`` (or the server's ``Retry-After``, at most a
  minute) in between;
- gives each attempt ``timeout_seconds`` in all (connecting, waiting and reading: a server
  that drips a byte a second cannot hold a worker for ever);
- follows at most ``max_redirects`` redirects itself (301, 302, 303, 307, 308), recording
  the chain, and stops at a loop;
- sends ``If-None-Match`` / ``If-Modified-Since`` when given the previous answer's validators.

It never raises for what a server does: the :class:`Fetched` result says what happened, with a
Chinese ``error`` when there was no usable answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from govwatch.guides.crawl.config import PortalConfig
from govwatch.guides.crawl.pacing import Pacer

RETRY_STATUSES = frozenset((429, 500, 502, 503, 504))
REDIRECT_STATUSES = frozenset((301, 302, 303, 307, 308))
HEAD_REFUSED = frozenset((400, 403, 405, 501))
MAX_PAGE_BYTES = 20 * 2**20
MAX_RETRY_AFTER_S = 60.0


@dataclass(frozen=True)
class Fetched:
    """What one fetch (with its retries and redirects) came to."""

    url: str
    final_url: str
    status: int | None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str | None = None
    redirects: tuple[str, ...] = ()
    attempts: int = 0
    requests: int = 0
    robots_blocked: bool = False
    method: str = "GET"
    size: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")


@dataclass(frozen=True)
class Robots:
    """A host's robots.txt as fetched: its status and text (None: no answer)."""

    status: int | None
    text: str

    def parser(self, url: str) -> RobotFileParser:
        parser = RobotFileParser(url)
        if self.status is not None and 200 <= self.status < 300:
            parser.parse(self.text.splitlines())
        elif self.status is not None and 400 <= self.status < 500:
            parser.parse([])  # no robots.txt: everything allowed
        else:  # 5xx or unreachable: RFC 9309 says assume complete disallow
            parser.parse(["User-agent: *", "Disallow: /"])
        return parser


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """``Retry-After`` in seconds (at most a minute); an HTTP date is ignored (clocks differ),
    the exponential backoff applies then."""
    value = headers.get("retry-after", "").strip()
    return min(float(value), MAX_RETRY_AFTER_S) if value.isdigit() else None


class Fetcher:
    """Polite HTTP for one crawl (see the module docstring). Use as ``async with``."""

    def __init__(
        self,
        config: PortalConfig,
        *,
        robots: Mapping[str, Robots] | None = None,
        on_robots: Callable[[str, Robots], None] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config
        self._robots_seen: dict[str, Robots] = dict(robots or {})
        self._robots: dict[str, RobotFileParser] = {}
        self._robots_loading: dict[str, asyncio.Lock] = {}
        self._on_robots = on_robots
        self._pacers: dict[str, Pacer] = {}
        self._client = httpx.AsyncClient(
            headers={"User-Agent": config.user_agent},
            follow_redirects=False,
            timeout=httpx.Timeout(config.timeout_seconds),
            limits=httpx.Limits(max_connections=config.concurrency + 2),
            transport=transport,
            trust_env=False,
        )
        self.requests = 0

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._client.aclose()

    def _pacer(self, url: str) -> Pacer:
        key = origin(url)
        if key not in self._pacers:
            self._pacers[key] = Pacer(self.config.rate)
        return self._pacers[key]

    async def robots(self, url: str) -> RobotFileParser:
        """The robots.txt of ``url``'s host, fetched once per crawl (or given when resuming)."""
        key = origin(url)
        if key in self._robots:
            return self._robots[key]
        lock = self._robots_loading.setdefault(key, asyncio.Lock())
        async with lock:
            if key in self._robots:
                return self._robots[key]
            seen = self._robots_seen.get(key)
            if seen is None:
                got = await self._send_following(f"{key}/robots.txt", "GET", {}, check_robots=False)
                if got.status is not None and 200 <= got.status < 300:
                    seen = Robots(got.status, got.body.decode("utf-8", errors="replace"))
                else:
                    seen = Robots(got.status, "")
                self._robots_seen[key] = seen
                if self._on_robots is not None:
                    self._on_robots(key, seen)
            parser = seen.parser(f"{key}/robots.txt")
            agent = self.config.user_agent
            delay = parser.crawl_delay(agent)
            if delay:
                self._pacer(url).slow_to(1.0 / float(delay))
            rate = parser.request_rate(agent)
            if rate is not None and rate.requests > 0 and rate.seconds > 0:
                self._pacer(url).slow_to(rate.requests / rate.seconds)
            self._robots[key] = parser
            return parser

    async def allowed(self, url: str) -> bool:
        return (await self.robots(url)).can_fetch(self.config.user_agent, url)

    async def get(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> Fetched:
        """A page, conditionally when validators are given (answer 304: ``not_modified``)."""
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return await self._send_following(url, "GET", headers)

    async def probe(self, url: str) -> Fetched:
        """A download link checked: HEAD, or GET (body not kept) when HEAD is refused."""
        head = await self._send_following(url, "HEAD", {}, keep_body=False)
        if head.status in HEAD_REFUSED:
            got = await self._send_following(url, "GET", {}, keep_body=False)
            return Fetched(
                got.url, got.final_url, got.status, got.headers, b"", got.error, got.redirects,
                got.attempts + head.attempts, got.requests + head.requests, got.robots_blocked,
                "GET", got.size,
            )  # fmt: skip
        return head

    async def _send_following(
        self,
        url: str,
        method: str,
        headers: Mapping[str, str],
        *,
        check_robots: bool = True,
        keep_body: bool = True,
    ) -> Fetched:
        chain: list[str] = []
        current = url
        attempts = requests = 0
        while True:
            if check_robots and not await self.allowed(current):
                return Fetched(
                    url, current, None, error="robots.txt 不允许抓取", redirects=tuple(chain),
                    attempts=attempts, requests=requests, robots_blocked=True, method=method,
                )  # fmt: skip
            got = await self._send_retrying(current, method, headers, keep_body)
            attempts += got.attempts
            requests += got.requests
            location = got.headers.get("location")
            if got.status not in REDIRECT_STATUSES or not location:
                return Fetched(
                    url, current, got.status, got.headers, got.body, got.error, tuple(chain),
                    attempts, requests, False, method, got.size,
                )  # fmt: skip
            chain.append(current)
            target = urljoin(current, location)
            if target in chain or target == current:
                return Fetched(
                    url, current, got.status, got.headers, b"", f"重定向循环：{target}",
                    tuple(chain), attempts, requests, False, method,
                )  # fmt: skip
            if len(chain) > self.config.max_redirects:
                return Fetched(
                    url, current, got.status, got.headers, b"",
                    f"重定向超过 {self.config.max_redirects} 次", tuple(chain), attempts,
                    requests, False, method,
                )  # fmt: skip
            if got.status == 303 and method != "HEAD":
                method = "GET"
            current = target

    async def _send_retrying(
        self, url: str, method: str, headers: Mapping[str, str], keep_body: bool
    ) -> Fetched:
        attempt = 0
        while True:
            got = await self._send_once(url, method, headers, keep_body)
            attempt += 1
            retry = got.status in RETRY_STATUSES or (got.status is None and got.error is not None)
            if not retry or attempt > self.config.retries:
                return Fetched(
                    got.url, got.final_url, got.status, got.headers, got.body, got.error,
                    attempts=attempt, requests=attempt, method=method, size=got.size,
                )  # fmt: skip
            wait = self.config.backoff_seconds * 2 ** (attempt - 1)
            after = _retry_after(got.headers)
            await asyncio.sleep(max(wait, after or 0.0))

    async def _send_once(
        self, url: str, method: str, headers: Mapping[str, str], keep_body: bool
    ) -> Fetched:
        await self._pacer(url).wait()
        self.requests += 1
        try:
            async with asyncio.timeout(self.config.timeout_seconds):
                return await self._exchange(url, method, headers, keep_body)
        except TimeoutError:
            return Fetched(
                url, url, None, error=f"超时（{self.config.timeout_seconds:g} 秒无应答）"
            )
        except httpx.TimeoutException:
            return Fetched(
                url, url, None, error=f"超时（{self.config.timeout_seconds:g} 秒无应答）"
            )
        except httpx.HTTPError as exc:
            return Fetched(url, url, None, error=f"连接失败：{type(exc).__name__} {exc}".strip())

    async def _exchange(
        self, url: str, method: str, headers: Mapping[str, str], keep_body: bool
    ) -> Fetched:
        async with self._client.stream(method, url, headers=dict(headers)) as response:
            answer = {k.lower(): v for k, v in response.headers.items()}
            declared = answer.get("content-length")
            size = int(declared) if declared and declared.isdigit() else None
            body = b""
            if method != "HEAD" and response.status_code not in REDIRECT_STATUSES:
                if keep_body:
                    chunks: list[bytes] = []
                    total = 0
                    async for chunk in response.aiter_bytes():
                        chunks.append(chunk)
                        total += len(chunk)
                        if total > MAX_PAGE_BYTES:
                            return Fetched(
                                url, url, response.status_code, answer,
                                error=f"页面超过 {MAX_PAGE_BYTES // 2**20} MB，未读取",
                            )  # fmt: skip
                    body = b"".join(chunks)
                    size = len(body)
                elif size is None:
                    # a download without Content-Length: count its bytes, keep none
                    size = 0
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
            return Fetched(url, url, response.status_code, answer, body, size=size)
