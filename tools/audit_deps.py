"""``make audit``: the installed dependencies against the advisories mirrored in the repository.

pip-audit and npm audit ask services on the network; this asks nothing. It compares

- every distribution installed in the interpreter's environment (run it with the virtualenv's
  Python: ``importlib.metadata.distributions()``), and
- every npm package pinned in package-lock.json (what ``npm ci`` installs),

with the OSV advisories in security/advisories/ (refreshed by tools/refresh_advisories.py).
A version is affected when it lies in one of an advisory's ECOSYSTEM or SEMVER ranges (OSV
semantics: events sorted by version; ``introduced`` opens a range, ``fixed`` closes it before
that version, ``last_affected`` after it, ``limit`` bounds it) or is listed in its
``versions``; versions compare by ``packaging.version``. Withdrawn advisories are ignored.

A finding can be waived in security/audit-waivers.toml: ``[[waiver]]`` with ``id`` (the
advisory's id or one of its aliases), optional ``package``, ``reason`` and ``expires`` (a
date; from that day the finding counts again). Output is one line per finding, in Chinese and
English. Exit status: 0 nothing unwaived, 1 unwaived findings, 2 the mirror or the waiver file
cannot be read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import re
import sys
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
MIRROR = ROOT / "security" / "advisories"
WAIVERS = ROOT / "security" / "audit-waivers.toml"
LOCKFILE = ROOT / "package-lock.json"
PROJECT = "govwatch"
RANGE_TYPES = ("ECOSYSTEM", "SEMVER")


class AuditError(Exception):
    """The mirror or the waiver file is unusable (exit status 2)."""


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# -- versions and ranges ----------------------------------------------------------------------


def parse_version(text: str) -> Version:
    """A version of either ecosystem: ``1.2.3``, ``2.0rc1``, npm's ``6.0.0-beta.1``."""
    return Version(text)


def _event_version(kind: str, value: str) -> Version:
    # "0" is the OSV spelling of "the first version there is"
    return Version("0") if kind == "introduced" and value == "0" else parse_version(value)


def in_range(version: Version, events: Iterable[Mapping[str, str]]) -> bool:
    """Whether ``version`` lies in the OSV range the events describe.

    Events are walked in version order; the last one at or below ``version`` decides:
    ``introduced`` means affected from there on, ``fixed`` and ``limit`` mean not affected
    from there on, ``last_affected`` means not affected after it.
    """
    ordered = sorted(
        ((kind, _event_version(kind, str(value))) for e in events for kind, value in e.items()),
        key=lambda item: item[1],
    )
    affected = False
    for kind, at in ordered:
        if kind == "introduced":
            affected = affected or version >= at
        elif kind in ("fixed", "limit"):
            affected = affected and version < at
        elif kind == "last_affected":
            affected = affected and version <= at
    return affected


def fixed_versions(advisory: Mapping[str, Any]) -> list[str]:
    """The versions an advisory names as fixed (for the message), in version order."""
    fixed = {
        str(value)
        for entry in advisory.get("affected", [])
        for r in entry.get("ranges", [])
        for event in r.get("events", [])
        for kind, value in event.items()
        if kind == "fixed"
    }
    return sorted(fixed, key=lambda v: (_sortable(v), v))


def _sortable(text: str) -> Version:
    try:
        return parse_version(text)
    except InvalidVersion:
        return Version("0")


def affects(advisory: Mapping[str, Any], ecosystem: str, package: str, version: str) -> bool:
    """Whether ``package`` at ``version`` is affected by the advisory.

    Raises InvalidVersion when the version (or a range bound) cannot be compared.
    """
    if advisory.get("withdrawn"):
        return False
    current = parse_version(version)
    for entry in advisory.get("affected", []):
        pkg = entry.get("package", {})
        name = str(pkg.get("name", ""))
        if pkg.get("ecosystem") != ecosystem:
            continue
        if (canonical(name) if ecosystem == "PyPI" else name) != package:
            continue
        for listed in entry.get("versions", []):
            if _same_version(str(listed), current):
                return True
        for r in entry.get("ranges", []):
            if r.get("type") in RANGE_TYPES and in_range(current, r.get("events", [])):
                return True
    return False


def _same_version(listed: str, current: Version) -> bool:
    try:
        return parse_version(listed) == current
    except InvalidVersion:
        return listed == str(current)


# -- waivers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Waiver:
    advisory: str
    package: str | None
    reason: str
    expires_on: dt.date

    def covers(self, finding: Finding) -> bool:
        if self.package is not None and canonical(self.package) != canonical(finding.package):
            return False
        return self.advisory in finding.names


def load_waivers(path: Path) -> list[Waiver]:
    if not path.exists():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise AuditError(f"豁免文件 {path} 不是有效的 TOML：{exc}") from exc
    waivers = []
    for number, entry in enumerate(data.get("waiver", []), start=1):
        where = f"豁免文件 {path} 第 {number} 个 [[waiver]]"
        for key in ("id", "reason", "expires"):
            if key not in entry:
                raise AuditError(f"{where} 缺少字段 {key}（应有 id、reason、expires）")
        expires = entry["expires"]
        if not isinstance(expires, dt.date) or isinstance(expires, dt.datetime):
            raise AuditError(f"{where} 的 expires 应为日期，如 2027-03-31，收到“{expires}”")
        reason = str(entry["reason"]).strip()
        if not reason:
            raise AuditError(f"{where} 的 reason 为空：请写明为何暂不升级")
        package = entry.get("package")
        waivers.append(Waiver(str(entry["id"]), str(package) if package else None, reason, expires))
    return waivers


# -- the mirror and what is installed ----------------------------------------------------------


def load_index(mirror: Path) -> dict[str, Any]:
    path = mirror / "index.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise AuditError(
            f"没有漏洞库镜像 {path}：请用 tools/refresh_advisories.py 生成（见 security/advisories/README.md）"
        ) from exc
    except json.JSONDecodeError as exc:
        raise AuditError(f"漏洞库索引 {path} 不是有效的 JSON：{exc}") from exc
    if not isinstance(data, dict):
        raise AuditError(f"漏洞库索引 {path} 应为 JSON 对象")
    return data


def load_advisories(mirror: Path, ecosystem_dir: str, package: str) -> list[dict[str, Any]]:
    folder = mirror / ecosystem_dir / package
    if not folder.is_dir():
        return []
    advisories = []
    for path in sorted(folder.glob("*.json")):
        try:
            advisories.append(json.loads(path.read_text(encoding="utf-8")))
        except json.JSONDecodeError as exc:
            raise AuditError(f"公告 {path} 不是有效的 JSON：{exc}") from exc
    return advisories


def installed_python() -> dict[str, str]:
    found: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name and canonical(name) != PROJECT:
            found[canonical(name)] = dist.version
    return dict(sorted(found.items()))


def locked_npm(lockfile: Path) -> dict[str, str]:
    if not lockfile.exists():
        return {}
    data = json.loads(lockfile.read_text(encoding="utf-8"))
    found: dict[str, str] = {}
    for path, entry in (data.get("packages") or {}).items():
        if path and "version" in entry:
            found[path.rsplit("node_modules/", 1)[-1]] = str(entry["version"])
    return dict(sorted(found.items()))


# -- the audit --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    ecosystem: str
    package: str
    version: str
    advisory: str
    aliases: tuple[str, ...]
    fixed: tuple[str, ...]
    summary: str
    comparable: bool = True

    @property
    def names(self) -> frozenset[str]:
        return frozenset((self.advisory, *self.aliases))

    def describe(self) -> str:
        also = (
            f" ({', '.join(a for a in self.aliases if a.startswith('CVE-'))})"
            if any(a.startswith("CVE-") for a in self.aliases)
            else ""
        )
        if not self.comparable:
            fix = "版本无法比较 version cannot be compared"
        elif self.fixed:
            fix = f"修复版本 fixed in {', '.join(self.fixed)}"
        else:
            fix = "尚无修复版本 no fixed version"
        return (
            f"{self.ecosystem} {self.package} {self.version}  {self.advisory}{also}  {fix}"
            f"：{self.summary}"
        )


def _summary(advisory: Mapping[str, Any]) -> str:
    text = str(advisory.get("summary") or advisory.get("details") or "")
    return text if len(text) <= 100 else text[:100].rstrip() + "…"


def audit_packages(
    ecosystem: str, installed: Mapping[str, str], advisories: Mapping[str, list[dict[str, Any]]]
) -> list[Finding]:
    """Every (package, advisory) pair whose installed version is affected."""
    findings = []
    for package, version in installed.items():
        for advisory in advisories.get(package, []):
            try:
                hit, comparable = affects(advisory, ecosystem, package, version), True
            except InvalidVersion:
                hit, comparable = not advisory.get("withdrawn"), False
            if hit:
                findings.append(
                    Finding(
                        ecosystem,
                        package,
                        version,
                        str(advisory["id"]),
                        tuple(str(a) for a in advisory.get("aliases", [])),
                        tuple(fixed_versions(advisory)),
                        _summary(advisory),
                        comparable,
                    )
                )
    return findings


@dataclass(frozen=True)
class Report:
    lines: list[str]
    unwaived: int
    waived: int

    @property
    def exit_code(self) -> int:
        return 1 if self.unwaived else 0


def run_audit(
    mirror: Path,
    waivers: list[Waiver],
    python: Mapping[str, str],
    npm: Mapping[str, str],
    today: dt.date,
) -> Report:
    index = load_index(mirror)
    lines: list[str] = []
    findings: list[Finding] = []
    count = 0
    for ecosystem, folder, installed in (("PyPI", "pypi", python), ("npm", "npm", npm)):
        covered = (index.get(folder) or {}).get("packages") or {}
        advisories = {name: load_advisories(mirror, folder, name) for name in installed}
        count += sum(map(len, advisories.values()))
        findings += audit_packages(ecosystem, installed, advisories)
        for name, version in installed.items():
            if name not in covered:
                lines.append(
                    f"未收录 NOT MIRRORED  {ecosystem} {name} {version}：镜像中没有这个包的公告，"
                    "请用 tools/refresh_advisories.py 更新 (refresh the mirror)"
                )
    unwaived = waived = 0
    used: set[Waiver] = set()
    for finding in findings:
        waiver = next((w for w in waivers if w.covers(finding)), None)
        if waiver is not None and today < waiver.expires_on:
            used.add(waiver)
            waived += 1
            lines.append(
                f"已豁免 WAIVED  {finding.describe()}  "
                f"豁免至 until {waiver.expires_on.isoformat()}：{waiver.reason}"
            )
            continue
        unwaived += 1
        if waiver is not None:
            used.add(waiver)
            lines.append(
                f"发现漏洞 VULNERABLE  {finding.describe()}  "
                f"（豁免已于 {waiver.expires_on.isoformat()} 到期 waiver expired）"
            )
        else:
            lines.append(f"发现漏洞 VULNERABLE  {finding.describe()}")
    for waiver in waivers:
        if waiver not in used:
            lines.append(
                f"多余的豁免 UNUSED WAIVER  {waiver.advisory}"
                f"{' (' + waiver.package + ')' if waiver.package else ''}：没有命中的漏洞，可删除"
            )
    mirrored = {
        folder: (index.get(folder) or {}).get("mirrored_on", "?") for folder in ("pypi", "npm")
    }
    lines.append(
        f"已检查 Checked {len(python)} 个 Python 包、{len(npm)} 个 npm 包，对照 {count} 条公告 "
        f"advisories（镜像日期 mirrored PyPI {mirrored['pypi']}, npm {mirrored['npm']}）："
        f"未豁免 unwaived {unwaived}，已豁免 waived {waived}"
    )
    return Report(lines, unwaived, waived)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, default=MIRROR)
    parser.add_argument("--waivers", type=Path, default=WAIVERS)
    parser.add_argument("--lockfile", type=Path, default=LOCKFILE)
    parser.add_argument(
        "--today", type=dt.date.fromisoformat, default=None, help="判断豁免是否到期的日期"
    )
    args = parser.parse_args(argv)
    try:
        report = run_audit(
            args.mirror,
            load_waivers(args.waivers),
            installed_python(),
            locked_npm(args.lockfile),
            args.today or dt.date.today(),
        )
    except AuditError as exc:
        print(f"依赖审计无法进行 Audit failed: {exc}", file=sys.stderr)
        return 2
    for line in report.lines:
        print(line)
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())
