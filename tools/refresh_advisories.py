"""Rebuild the vulnerability mirror in security/advisories/ from local clones of the databases.

``make audit`` (tools/audit_deps.py) works offline: it compares what is installed with the
advisories mirrored here. This script refreshes that mirror from clones made elsewhere::

    git clone --depth 1 https://github.com/pypa/advisory-database /tmp/pypa-db
    git clone --depth 1 https://github.com/github/advisory-database /tmp/gh-db   # optional
    .venv/bin/python tools/refresh_advisories.py /tmp/pypa-db --github /tmp/gh-db

Run it with the virtualenv's Python: the Python packages mirrored are the distributions
installed there (``importlib.metadata.distributions()``), the npm packages those pinned in
package-lock.json. Only their advisories are copied (``vulns/<name>/*.yaml`` of the PyPA
database; for npm the GitHub-reviewed advisories naming a locked package). Without
``--github`` the npm part of the mirror is kept as it is.

Each advisory is written as OSV JSON, abridged to what the checker and a reader need: id,
summary, details (whitespace folded, cut at 280 characters), aliases, dates, withdrawn,
severity, the ECOSYSTEM and SEMVER ranges (GIT ranges name commits, not versions; the
``versions`` enumeration is kept only where no range says the same), and the first four
distinct references (links to a package index page are left out). Two entries of one package
that share an id or alias are one advisory (the PyPA database renamed some, and a clone may
hold both): the one in the current schema and most recently modified is kept.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import re
import shutil
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parent.parent
MIRROR = ROOT / "security" / "advisories"
LOCKFILE = ROOT / "package-lock.json"
PROJECT = "govwatch"  # the project itself is installed in the venv; it has no advisories

RANGE_TYPES = ("ECOSYSTEM", "SEMVER")
DETAILS_LIMIT = 280
MAX_REFERENCES = 4
_URL = re.compile(r"https?://[^\s)>\"']+")


def canonical(name: str) -> str:
    """A package name as the PyPA database names its directories (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_python() -> dict[str, str]:
    """{canonical name: version} of every distribution in the running interpreter's env."""
    found: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name and canonical(name) != PROJECT:
            found[canonical(name)] = dist.version
    return dict(sorted(found.items()))


def locked_npm(lockfile: Path = LOCKFILE) -> dict[str, str]:
    """{name: version} of every package package-lock.json pins (lockfile version 2 or 3)."""
    data = json.loads(lockfile.read_text(encoding="utf-8"))
    found: dict[str, str] = {}
    for path, entry in (data.get("packages") or {}).items():
        if not path or "version" not in entry:
            continue
        name = path.rsplit("node_modules/", 1)[-1]
        found[name] = str(entry["version"])
    return dict(sorted(found.items()))


def _fold(text: Any) -> str:
    return " ".join(str(text).split())


def _index_link(url: str, ecosystem: str) -> bool:
    """Whether ``url`` points into the ecosystem's package index (no use in an advisory)."""
    host = (urlsplit(url).hostname or "").lower()
    return ecosystem.lower() in host


def _details(text: Any, ecosystem: str) -> str:
    folded = _fold(text)
    folded = _URL.sub(
        lambda m: "<link>" if _index_link(m.group(0), ecosystem) else m.group(0), folded
    )
    if len(folded) > DETAILS_LIMIT:
        return folded[:DETAILS_LIMIT].rstrip() + "…"
    return folded


def _references(raw: Iterable[dict[str, Any]], ecosystem: str) -> list[dict[str, str]]:
    kept: list[dict[str, str]] = []
    seen: set[str] = set()
    for ref in raw:
        url = str(ref.get("url", ""))
        kind = str(ref.get("type", "WEB"))
        if not url or url in seen or kind == "PACKAGE" or _index_link(url, ecosystem):
            continue
        seen.add(url)
        kept.append({"type": kind, "url": url})
        if len(kept) == MAX_REFERENCES:
            break
    return kept


def _events(raw: Iterable[dict[str, Any]]) -> list[dict[str, str]]:
    return [{str(k): str(v)} for event in raw for k, v in event.items()]


def _affected(raw: dict[str, Any], package: str, ecosystem: str) -> list[dict[str, Any]]:
    """The advisory's affected entries for ``package``, in the current OSV schema.

    The PyPA database's first schema (``package`` + ``affects``) gives each range its own
    ``introduced``/``fixed``; a range without ``introduced`` starts at the first version.
    """
    entries: list[tuple[dict[str, Any], list[dict[str, Any]], list[Any]]] = []
    if "affected" in raw:
        for item in raw.get("affected") or []:
            ranges = [
                {"type": r["type"], "events": _events(r.get("events") or [])}
                for r in item.get("ranges") or []
                if r.get("type") in RANGE_TYPES
            ]
            entries.append((item.get("package") or {}, ranges, item.get("versions") or []))
    elif "affects" in raw:
        affects = raw["affects"] or {}
        ranges = []
        for r in affects.get("ranges") or []:
            if r.get("type") not in RANGE_TYPES:
                continue
            events = [{"introduced": str(r.get("introduced", "0"))}]
            events += [{key: str(r[key])} for key in ("fixed", "last_affected") if key in r]
            ranges.append({"type": r["type"], "events": events})
        entries.append((raw.get("package") or {}, ranges, affects.get("versions") or []))
    result = []
    for pkg, ranges, versions in entries:
        if str(pkg.get("ecosystem", "")) != ecosystem:
            continue
        name = str(pkg.get("name", ""))
        if (canonical(name) if ecosystem == "PyPI" else name) != package:
            continue
        entry: dict[str, Any] = {"package": {"ecosystem": ecosystem, "name": package}}
        entry["ranges"] = ranges
        if not ranges:
            entry["versions"] = [str(v) for v in versions]
        result.append(entry)
    return result


def normalise(raw: dict[str, Any], package: str, ecosystem: str) -> dict[str, Any] | None:
    """The abridged OSV record of ``raw`` for one package, or None when it names it not."""
    affected = _affected(raw, package, ecosystem)
    if not affected:
        return None
    record: dict[str, Any] = {"id": str(raw["id"])}
    if raw.get("summary"):
        record["summary"] = _fold(raw["summary"])
    record["details"] = _details(raw.get("details", ""), ecosystem)
    record["aliases"] = [str(a) for a in raw.get("aliases") or []]
    for key in ("modified", "published", "withdrawn"):
        if raw.get(key):
            record[key] = str(raw[key])
    if raw.get("severity"):
        record["severity"] = [
            {"type": str(s["type"]), "score": str(s["score"])} for s in raw["severity"]
        ]
    label = (raw.get("database_specific") or {}).get("severity")
    if label:
        record["database_specific"] = {"severity": str(label)}
    record["affected"] = affected
    record["references"] = _references(raw.get("references") or [], ecosystem)
    record["legacy_schema"] = "affected" not in raw
    return record


def deduplicate(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per advisory: entries sharing an id or alias are the same advisory."""
    ordered = sorted(records, key=lambda r: r["id"])
    ordered.sort(key=lambda r: r.get("modified", ""), reverse=True)
    ordered.sort(key=lambda r: r["legacy_schema"])
    kept: list[dict[str, Any]] = []
    seen: set[str] = set()
    for record in ordered:
        names = {record["id"], *record["aliases"]}
        if names & seen:
            continue
        seen |= names
        kept.append(record)
    for record in kept:
        del record["legacy_schema"]
    return sorted(kept, key=lambda r: r["id"])


def _load(path: Path) -> dict[str, Any] | None:
    text = path.read_text(encoding="utf-8")
    # BaseLoader: every scalar stays text as written (a version "2.10" is not the float 2.1,
    # a date is not re-spelt by datetime)
    data = json.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=yaml.BaseLoader)
    return data if isinstance(data, dict) and "id" in data else None


def pypa_records(clone: Path, package: str) -> list[dict[str, Any]]:
    vulns = clone / "vulns" if (clone / "vulns").is_dir() else clone
    folder = vulns / package
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.iterdir()):
        if path.suffix not in (".yaml", ".yml", ".json"):
            continue
        raw = _load(path)
        record = None if raw is None else normalise(raw, package, "PyPI")
        if record is not None:
            found.append(record)
    return deduplicate(found)


def github_files(clone: Path) -> Iterator[Path]:
    base = clone / "advisories" if (clone / "advisories").is_dir() else clone
    yield from sorted(base.rglob("GHSA-*.json"))


def npm_records(clone: Path, packages: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    wanted = set(packages)
    found: dict[str, list[dict[str, Any]]] = {name: [] for name in wanted}
    for path in github_files(clone):
        text = path.read_text(encoding="utf-8")
        if '"npm"' not in text:
            continue
        raw = json.loads(text)
        names = {
            str((a.get("package") or {}).get("name", ""))
            for a in raw.get("affected") or []
            if (a.get("package") or {}).get("ecosystem") == "npm"
        }
        for name in sorted(names & wanted):
            record = normalise(raw, name, "npm")
            if record is not None:
                found[name].append(record)
    return {name: deduplicate(records) for name, records in sorted(found.items())}


def _write(folder: Path, records: list[dict[str, Any]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for record in records:
        text = json.dumps(record, ensure_ascii=False, indent=2) + "\n"
        (folder / f"{record['id']}.json").write_text(text, encoding="utf-8")


def refresh(
    pypa: Path,
    github: Path | None,
    mirror: Path,
    python: dict[str, str],
    npm: dict[str, str],
    today: dt.date,
) -> dict[str, Any]:
    """Rewrite the mirror; returns its new index."""
    shutil.rmtree(mirror / "pypi", ignore_errors=True)
    pypi_index: dict[str, list[str]] = {}
    for name in python:
        records = pypa_records(pypa, name)
        _write(mirror / "pypi" / name, records)
        pypi_index[name] = [r["id"] for r in records]
    old_index = _read_index(mirror)
    if github is not None:
        shutil.rmtree(mirror / "npm", ignore_errors=True)
        npm_index: dict[str, list[str]] = {}
        for name, records in npm_records(github, npm).items():
            _write(mirror / "npm" / name, records)
            npm_index[name] = [r["id"] for r in records]
        npm_part = {"source": "github/advisory-database", "mirrored_on": today.isoformat()}
        npm_part["packages"] = npm_index  # type: ignore[assignment]
    else:
        npm_part = old_index.get("npm") or {"packages": {}}
    index = {
        "pypi": {
            "source": "pypa/advisory-database",
            "mirrored_on": today.isoformat(),
            "packages": pypi_index,
        },
        "npm": npm_part,
    }
    (mirror / "index.json").write_text(
        json.dumps(index, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return index


def _read_index(mirror: Path) -> dict[str, Any]:
    path = mirror / "index.json"
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pypa", type=Path, help="clone of pypa/advisory-database (or its vulns/)")
    parser.add_argument("--github", type=Path, help="clone of github/advisory-database (npm)")
    parser.add_argument("--mirror", type=Path, default=MIRROR, help="the mirror to rewrite")
    parser.add_argument("--lockfile", type=Path, default=LOCKFILE)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.date.today())
    args = parser.parse_args(argv)
    if not args.pypa.is_dir():
        print(
            f"没有找到公告库目录 {args.pypa}（应为 pypa/advisory-database 的本地克隆）",
            file=sys.stderr,
        )
        return 2
    index = refresh(
        args.pypa,
        args.github,
        args.mirror,
        installed_python(),
        locked_npm(args.lockfile),
        args.today,
    )
    pypi = index["pypi"]["packages"]
    npm = index["npm"].get("packages", {})
    print(
        f"已更新镜像 Mirror refreshed: {len(pypi)} 个 Python 包 packages, "
        f"{sum(map(len, pypi.values()))} 条公告 advisories; {len(npm)} 个 npm 包, "
        f"{sum(map(len, npm.values()))} 条公告",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
