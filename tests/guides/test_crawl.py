"""The portal crawler against a local portal (issue 16 item 3 and its "Done when" line).

A small generated province's guides (faults injected, ``guides_truth.jsonl`` beside them) are
rendered as a portal in every layout (govwatch/generator/portal.py) and served on a loopback
port by tests/guides/portal_server.py, with broken links (404, 500, a timeout), a HEAD refused,
redirect chains, a slow page, a page robots.txt forbids and GB18030 pages. The crawler must read
back every element of every guide it was allowed to read, record every broken link, respect
robots.txt and the rate limit (judged from the portal's own request log), resume after a kill
without asking again for what it has, and ask conditionally the second time.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import pytest

from govwatch.generator.config import make_config
from govwatch.generator.portal import ENCODINGS, LAYOUTS, render_portal
from govwatch.generator.writer import generate
from govwatch.guides.checks import completeness, consistency
from govwatch.guides.crawl import PORTALS_DIR, PortalConfig, crawl, load_merge, load_portal
from govwatch.guides.elements import READERS, read
from govwatch.guides.model import GuideMaterial, Link
from govwatch.vocabulary import ITEM_LEVEL_NAMES
from tests.guides.portal_server import Behaviour, Hit, PortalServer

ROOT = Path(__file__).resolve().parents[2]
SEED = 16
RARE_PLACE = "（𠮷祥路 8 号）"  # 𠮷 is in GB18030 only: a gb2312 or gbk decoder loses it
TIMEOUT_S = 1.0


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@dataclass(frozen=True)
class Sample:
    """The generated items the portal shows, and what the tests do to some of them."""

    records: list[dict[str, Any]]
    truth: set[tuple[str, str, str]]
    rare: str  # its guide's place holds a GB18030-only character
    disallowed: str  # its page lies where robots.txt forbids
    moved: str  # listed at an old address that redirects twice
    broken: str  # the server answers 500 for its blank form, never in time for its sample
    head_refused: str  # HEAD refused on its blank form (GET works)
    redirected: str  # its sample redirects to its blank form
    slow: str  # its page answers after a delay

    def by_code(self) -> dict[str, dict[str, Any]]:
        return {r["item_code"]: r for r in self.records}


def _forms(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [m for m in record["guide"].get("materials", []) if "form" in m and "sample" in m]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    folder = tmp_path_factory.mktemp("province")
    generate(make_config(200, SEED, guide_fault_rate=0.03, workers=1), folder)
    records = _jsonl(folder / "catalog.jsonl")
    truth = {
        (t["item_code"], t["element"], t["check"]) for t in _jsonl(folder / "guides_truth.jsonl")
    }
    faulty = {code for code, _e, _c in truth}
    chosen: dict[str, None] = {}
    kinds: set[tuple[str, str]] = set()
    for code, element, check in sorted(truth):
        if check != "practice" and (element, check) not in kinds:
            kinds.add((element, check))
            chosen[code] = None
    clean = [
        r for r in records
        if r["item_code"] not in faulty and len(_forms(r)) >= 1 and r["guide"].get("published")
    ]  # fmt: skip
    roles = [r["item_code"] for r in clean[:7]]
    chosen.update(dict.fromkeys(roles))
    picked = [r for r in records if r["item_code"] in chosen]
    rare = next(r for r in picked if r["item_code"] == roles[0])
    rare["guide"]["place"] = rare["guide"]["place"] + RARE_PLACE
    codes = set(chosen)
    return Sample(
        records=picked,
        truth={t for t in truth if t[0] in codes},
        rare=roles[0],
        disallowed=roles[1],
        moved=roles[2],
        broken=roles[3],
        head_refused=roles[4],
        redirected=roles[5],
        slow=roles[6],
    )


def _link_path(record: Mapping[str, Any], kind: str) -> str:
    url = _forms(record)[0][kind]["url"]
    return str(url)


def _behaviours(sample: Sample, layouts: Sequence[str]) -> dict[str, Behaviour]:
    recs = sample.by_code()
    out = {
        _link_path(recs[sample.broken], "form"): Behaviour(status=500),
        _link_path(recs[sample.broken], "sample"): Behaviour(delay_s=TIMEOUT_S * 3),
        _link_path(recs[sample.head_refused], "form"): Behaviour(head_refused=True),
        _link_path(recs[sample.redirected], "sample"): Behaviour(
            redirect=_link_path(recs[sample.redirected], "form"), redirect_status=302
        ),
    }
    for layout in layouts:
        out[f"/{layout}/old/{sample.moved}.html"] = Behaviour(
            redirect=f"/{layout}/go/{sample.moved}.html", redirect_status=301
        )
        out[f"/{layout}/go/{sample.moved}.html"] = Behaviour(
            redirect=f"/{layout}/guides/{sample.moved}.html", redirect_status=302
        )
        out[f"/{layout}/guides/{sample.slow}.html"] = Behaviour(delay_s=0.3)
    return out


@pytest.fixture(scope="module")
def portal(sample: Sample, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalServer]:
    root = tmp_path_factory.mktemp("portal")
    render_portal(
        sample.records, root, per_page=6, disallowed=[sample.disallowed], moved=[sample.moved]
    )
    server = PortalServer(
        root,
        behaviours=_behaviours(sample, LAYOUTS),
        content_types={"/legacy/": "text/html"},  # a legacy server names no charset
    )
    with server:
        yield server


def _config(server: PortalServer, layout: str, **changes: Any) -> PortalConfig:
    config = load_portal(PORTALS_DIR / f"{layout}.yaml").with_overrides(
        base_url=f"{server.url}/{layout}/"
    )
    settings: dict[str, Any] = {
        "rate": 200.0, "timeout_seconds": TIMEOUT_S, "retries": 1, "backoff_seconds": 0.05,
    }  # fmt: skip
    settings.update(changes)
    return replace(config, **settings)


def _normal(value: Any) -> Any:
    """A reading's value with each link as its path: the crawl gives full URLs and what its
    check found (type, size), the generated guide a path and the status the generator chose
    (whether a link is dead is compared through the downloads element's problems)."""
    if isinstance(value, tuple):
        return tuple(_normal(v) for v in value)
    if isinstance(value, GuideMaterial):
        return replace(value, form=_normal(value.form), sample=_normal(value.sample))
    if isinstance(value, Link):
        return urlsplit(value.url).path
    return value


def _level_is_a_label(guide: Mapping[str, Any]) -> bool:
    # A guide whose level holds the label 县级 instead of the code 4 (a generated malformed
    # element) is printed by every portal exactly as one holding 4: a crawl reads 4, well formed.
    return str(guide.get("level")) in ITEM_LEVEL_NAMES.values()


def _portal_broken(sample: Sample) -> set[str]:
    recs = sample.by_code()
    return {_link_path(recs[sample.broken], "form"), _link_path(recs[sample.broken], "sample")}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_crawl_reads_every_element_of_every_layout(
    layout: str, sample: Sample, portal: PortalServer, tmp_path: Path
) -> None:
    summary = crawl(_config(portal, layout), tmp_path)
    got = {r["item_code"]: r for r in _jsonl(tmp_path / "catalog.jsonl")}
    published = {
        r["item_code"] for r in sample.records if r["guide"].get("published", True) is not False
    }
    assert set(got) == published - {sample.disallowed}
    assert summary.robots_skipped == 1
    assert summary.failed_pages == 0
    broken_items = {sample.broken}
    compared = 0
    for code, crawled in got.items():
        source = sample.by_code()[code]
        for field in ("item_code", "name", "department_code", "department_name", "region_code"):
            assert crawled[field] == source[field], (code, field)
        # the page it was read from, after any redirect
        assert crawled["guide"]["url"] == f"{portal.url}/{layout}/guides/{code}.html"
        for element in READERS:
            want, found = read(source["guide"], element), read(crawled["guide"], element)
            if element == "basic.level" and _level_is_a_label(source["guide"]):
                assert found.ok and found.value == source["level"]
                continue
            if element == "downloads" and code in broken_items:
                assert not found.ok  # the server breaks two of its links (see below)
                continue
            assert (found.present, found.ok) == (want.present, want.ok), (code, element, found)
            if want.ok:
                assert _normal(found.value) == _normal(want.value), (code, element)
            compared += 1
    assert compared >= len(got) * (len(READERS) - 1)
    assert got[sample.rare]["guide"]["place"].endswith(RARE_PLACE)
    evidence = {e["url"]: e for e in _jsonl(tmp_path / "evidence" / "pages.jsonl")}
    moved = evidence[f"{portal.url}/{layout}/old/{sample.moved}.html"]
    assert moved["final_url"] == f"{portal.url}/{layout}/guides/{sample.moved}.html"
    assert len(moved["redirects"]) == 2
    _assert_evidence(tmp_path, evidence.values(), layout, sample)


def _assert_evidence(
    out: Path, evidence: Iterable[dict[str, Any]], layout: str, sample: Sample
) -> None:
    """Each page read is kept as served, under its SHA-256, with the moment it was fetched."""
    read_pages = [e for e in evidence if e["sha256"]]
    assert {e["kind"] for e in read_pages} == {"list", "guide"}
    for entry in read_pages:
        data = (out / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert entry["status"] == 200 and "T" not in entry["fetched_at"]
        time.strptime(entry["fetched_at"], "%Y-%m-%d %H:%M:%S")
        assert entry["encoding"] == ("gb18030" if layout == "legacy" else "utf-8")
    page = next(e for e in read_pages if e["url"].endswith(f"/{sample.rare}.html"))
    # the bytes as served: a legacy page stays GB18030, not re-encoded
    assert RARE_PLACE.encode(ENCODINGS[layout]) in (out / page["path"]).read_bytes()


def _named_links(sample: Sample, codes: set[str], layout: str) -> dict[str, str]:
    """Every download link the read guides name, as the path a browser would ask for (a
    malformed address such as 见附件 is relative to the guide page), by the address."""
    out = {}
    for record in sample.records:
        if record["item_code"] not in codes:
            continue
        page = f"/{layout}/guides/{record['item_code']}.html"
        for m in record["guide"].get("materials", []):
            for kind in ("form", "sample"):
                if isinstance(m.get(kind), dict):
                    out[str(m[kind]["url"])] = urlsplit(urljoin(page, str(m[kind]["url"]))).path
    return out


def test_crawl_records_every_broken_link(
    sample: Sample, portal: PortalServer, tmp_path: Path
) -> None:
    crawl(_config(portal, "table"), tmp_path)
    report = _jsonl(tmp_path / "links.jsonl")
    read_codes = {r["item_code"] for r in _jsonl(tmp_path / "catalog.jsonl")}
    named = _named_links(sample, read_codes, "table")
    # dead by the generator's convention (under gone/, or not an address on the portal),
    # and the two the portal breaks (500, never answered in time)
    dead = {path for url, path in named.items() if "/gone/" in url or not url.startswith("/")}
    assert dead, "the sample has no dead link: pick another seed"
    by_path = {urlsplit(line["url"]).path: line for line in report}
    assert set(named.values()) <= set(by_path)
    assert {path for path, line in by_path.items() if line["broken"]} == dead | _portal_broken(
        sample
    )
    recs = sample.by_code()
    five_hundred = by_path[_link_path(recs[sample.broken], "form")]
    assert five_hundred["status"] == 500 and five_hundred["broken"]
    timed_out = by_path[_link_path(recs[sample.broken], "sample")]
    assert timed_out["status"] is None and "超时" in timed_out["error"] and timed_out["broken"]
    head = by_path[_link_path(recs[sample.head_refused], "form")]
    assert (head["method"], head["status"], head["broken"]) == ("GET", 200, False)
    moved = by_path[_link_path(recs[sample.redirected], "sample")]
    assert moved["status"] == 200 and not moved["broken"]
    assert urlsplit(moved["final_url"]).path == _link_path(recs[sample.redirected], "form")
    assert moved["content_type"] and moved["size"] and moved["size"] > 0
    # the catalog fragment carries what the check found, as a crawled guide does
    crawled = {r["item_code"]: r for r in _jsonl(tmp_path / "catalog.jsonl")}
    form = _forms(crawled[sample.broken])[0]
    assert form["form"]["status"] == 500 and form["sample"]["status"] is None
    assert "超时" in form["sample"]["error"]


def test_guides_check_on_the_crawled_catalog_finds_the_faults_the_portal_shows(
    sample: Sample, tmp_path: Path
) -> None:
    """Crawled and merged into the implementation list, the guides give exactly the
    completeness and consistency findings of the truth (practice needs the cases)."""
    ordinary = sample.records
    listed = tmp_path / "list.jsonl"
    listed.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ordinary))
    root = tmp_path / "portal"
    render_portal(ordinary, root, layouts=("dl",), per_page=5)
    with PortalServer(root) as server:
        summary = crawl(_config(server, "dl"), tmp_path / "out", merge=load_merge(listed))
    assert summary.written.unpublished == sum(
        1 for r in ordinary if r["guide"].get("published") is False
    )
    merged = _jsonl(tmp_path / "out" / "catalog.jsonl")
    assert [r["item_code"] for r in merged] == [r["item_code"] for r in ordinary]
    found = {
        (f.item_code, f.element, f.check)
        for r in merged
        for f in [*completeness(r), *consistency(r)]
    }
    codes = {r["item_code"] for r in ordinary}
    expected = {
        t for t in sample.truth
        if t[0] in codes and t[2] != "practice"
        and not (t[1] == "basic.level" and _level_is_a_label(sample.by_code()[t[0]]["guide"]))
    }  # fmt: skip
    assert expected and found == expected


def _robots(server: PortalServer) -> RobotFileParser:
    parser = RobotFileParser()
    parser.parse((Path(server.root) / "robots.txt").read_text(encoding="utf-8").splitlines())
    return parser


def _gets(hits: Sequence[Hit]) -> list[Hit]:
    return [h for h in hits if h.method in ("GET", "HEAD")]


def test_crawl_respects_robots_txt_and_the_rate_limit(sample: Sample, tmp_path: Path) -> None:
    rate = 5.0
    few = [r for r in sample.records if r["item_code"] != sample.broken][:5]
    root = tmp_path / "portal"
    render_portal(few, root, layouts=("table",), per_page=2, disallowed=[few[0]["item_code"]])
    with PortalServer(root) as server:
        summary = crawl(_config(server, "table", rate=rate, concurrency=4), tmp_path / "out")
        hits = _gets(server.hits())
    assert hits[0].path == "/robots.txt"
    robots = _robots(server)
    assert summary.robots_skipped >= 1
    assert all(robots.can_fetch("govwatch-crawler/1.0", h.path) for h in hits)
    assert not any("/internal/" in h.path for h in hits)
    # The rate limit, from the portal's log. The crawler lets each request leave within half an
    # interval after its slot, slots one interval (1/rate) apart, so any rate + 2 consecutive
    # requests leave more than 1/rate·(rate + 1) - 1/(2·rate) = 1.1 s apart: never rate + 2 in a
    # second. Arrival times add the way to the server (thread scheduling on a loaded machine):
    # 0.2 s of it is allowed. A crawl ignoring the limit, or going at twice the rate, fails.
    k = int(rate) + 1
    assert len(hits) > 2 * k
    spans = [hits[i + k].at - hits[i].at for i in range(len(hits) - k)]
    assert min(spans) >= k / rate - 1 / (2 * rate) - 0.2, min(spans)


def test_second_crawl_asks_conditionally_and_is_answered_304(
    sample: Sample, tmp_path: Path
) -> None:
    root = tmp_path / "portal"
    render_portal(sample.records[:12], root, layouts=("dl",), per_page=4)
    out = tmp_path / "out"
    with PortalServer(root) as server:
        config = _config(server, "dl")
        first = crawl(config, out)
        catalog = (out / "catalog.jsonl").read_bytes()
        server.clear()
        second = crawl(config, out)
        pages = [h for h in server.hits() if h.method == "GET" and h.path.endswith(".html")]
    assert len(pages) == first.list_pages + first.guide_pages
    assert all("if-none-match" in h.headers and h.status == 304 for h in pages)
    assert second.not_modified == len(pages) and second.requests == first.requests
    assert second.run_id == first.run_id + 1 and not second.resumed
    assert (out / "catalog.jsonl").read_bytes() == catalog


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "govwatch.cli", "guides", "crawl", *args]


def test_crawl_resumes_after_a_kill_without_fetching_again(sample: Sample, tmp_path: Path) -> None:
    """``govwatch guides crawl`` killed (SIGKILL) in the middle, then run again: it says it
    resumed, finishes, and the portal's log shows nothing asked twice but what was in flight."""
    concurrency = 4  # the table portal's configuration
    records = sample.records[:16]
    root = tmp_path / "portal"
    render_portal(records, root, layouts=("table",), per_page=4)
    assert f"concurrency: {concurrency}\n" in (PORTALS_DIR / "table.yaml").read_text("utf-8")
    out = tmp_path / "out"
    with PortalServer(root) as server:
        args = _cli(
            "--portal", str(PORTALS_DIR / "table.yaml"), "--out", str(out),
            "--base-url", f"{server.url}/table/", "--rate", "20",
        )  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while sum(1 for h in server.hits() if "/guides/" in h.path) < 6:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the crawl never reached the guide pages"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        before = _gets(server.hits())
        done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        hits = _gets(server.hits())
    assert done.returncode == 0, done.stderr
    assert "续抓完成" in done.stderr
    assert len(before) < len(hits)
    twice = [key for key, n in Counter((h.method, h.path) for h in hits).items() if n > 1]
    # only what was in flight when the process died (one request per worker) is asked again
    assert len(twice) <= concurrency, twice
    assert set(twice) <= {(h.method, h.path) for h in before[-concurrency:]}
    assert not any(h.path == "/robots.txt" for h in hits[len(before) :])
    crawled = [r["item_code"] for r in _jsonl(out / "catalog.jsonl")]
    published = [r["item_code"] for r in records if r["guide"].get("published") is not False]
    assert crawled == published
