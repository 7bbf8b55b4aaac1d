"""The health of one installation: what ``govwatch doctor`` prints and the administrator's page shows.

Each check gives one :class:`Check`: ``ok`` (✓), ``warn`` (an optional part is missing; says what
it affects) or ``fail`` (✗, something needs action, and ``action`` says what). Checks, in order:

- **database**: reachable, and every shipped migration applied (none unknown to this version);
- **calendar**: this year's and next year's holiday notices loaded (official), provisional
  (weekends only) or missing (beyond the table); next year's counts from the reminder day
  (1 November, :mod:`govwatch.calendar.coverage`);
- **live queue**: cases waiting for the live evaluator (``live_pending``, ``live_refresh``);
- **sweep**: cases whose stored next moment has come but which no sweep has evaluated yet. No
  table records the sweeper's runs, so its lag is read from what it leaves undone: the oldest
  such moment (nothing waiting: the sweeper keeps up, or nothing is due);
- **ledger**: the hash chain verifies (:func:`govwatch.ledger.verify`);
- **disk**: free space beside a DuckDB file (a checkpoint or an export needs room);
- **fonts** and **pdf**: a CJK font (fontconfig) and LibreOffice (``soffice``) for notices as PDF;
- **versions**: govwatch, Python, DuckDB, and the PostgreSQL server when there is one.

:func:`run_checks` opens the database itself (never creating or migrating it);
:func:`check_database` runs on an open connection (the web app's pool).
"""

from __future__ import annotations

import platform
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from govwatch import __version__, timeutil
from govwatch.calendar import FIRST_DAY, LAST_DAY
from govwatch.calendar.coverage import YearCoverage, calendar_coverage
from govwatch.errors import GovwatchError, InputError
from govwatch.ledger import verify
from govwatch.storage import Database, connect, duckdb_path
from govwatch.storage.migrate import available

Status = Literal["ok", "warn", "fail"]
MARKS: dict[Status, str] = {"ok": "✓", "warn": "!", "fail": "✗"}

# queued or due work older than this means nothing is processing it
LAG_LIMIT = timedelta(minutes=10)
MIN_FREE_BYTES = 2**30
FONT_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Check:
    key: str  # stable id: database, calendar, live_queue, sweep, ledger, disk, fonts, pdf, versions
    title: str  # Chinese label
    status: Status
    detail: str  # what was found
    action: str = ""  # what to do ("" when nothing)

    @property
    def mark(self) -> str:
        return MARKS[self.status]

    def line(self) -> str:
        """``✓ 标题：所见；处理办法`` on one line."""
        tail = f"；{self.action}" if self.action else ""
        return f"{self.mark} {self.title}：{self.detail}{tail}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "action": self.action,
        }


@dataclass(frozen=True)
class HealthReport:
    checked_at: datetime
    checks: tuple[Check, ...] = field(default_factory=tuple)

    @property
    def needs_action(self) -> bool:
        return any(c.status == "fail" for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "checked_at": self.checked_at.isoformat(sep=" "),
            "needs_action": self.needs_action,
            "checks": [c.to_dict() for c in self.checks],
        }


def run_checks(url: str, at: datetime | None = None) -> HealthReport:
    """Every check against the database at ``url`` (opened, never created nor migrated)."""
    moment = at or timeutil.now()
    db, problem = _open(url)
    if db is None:
        return HealthReport(moment, (problem, *_host_checks(url, None)))
    try:
        return check_database(db, moment)
    finally:
        db.close()


def check_database(db: Database, at: datetime | None = None) -> HealthReport:
    """Every check on an open connection."""
    moment = at or timeutil.now()
    database = _migrations(db)
    checks = [database]
    if database.status == "ok":
        checks += [
            _calendar(db, moment.date()),
            _live_queue(db, moment),
            _sweep(db, moment),
            _ledger(db),
        ]
    return HealthReport(moment, (*checks, *_host_checks(db.url, db)))


# -- database -------------------------------------------------------------------------------


def _where(url: str) -> str:
    if url.startswith(("postgresql://", "postgres://")):
        return "PostgreSQL"
    return f"DuckDB 文件 {Path(duckdb_path(url)).absolute()}"


def _open(url: str) -> tuple[Database | None, Check]:
    try:
        if not url.startswith(("postgresql://", "postgres://")):
            path = duckdb_path(url)
            if path != ":memory:" and not Path(path).exists():
                return None, Check(
                    "database",
                    "数据库",
                    "fail",
                    f"{_where(url)} 不存在",
                    "检查 --db 或 GOVWATCH_DB 是否指向正在使用的数据库（duckdb:////绝对路径 "
                    "需四条斜线）；新安装可先用 govwatch import catalog 建库并导入事项目录",
                )
        return connect(url, migrate=False), Check("database", "数据库", "ok", _where(url))
    except InputError as exc:
        return None, Check("database", "数据库", "fail", str(exc), "改正数据库地址（--db）")
    except GovwatchError as exc:
        return None, Check(
            "database",
            "数据库",
            "fail",
            f"无法打开：{exc}",
            "DuckDB 文件同一时间只能由一个进程打开：govwatch serve 运行时，请在网页的系统检查页"
            "查看同样的结果",
        )


def _migrations(db: Database) -> Check:
    where = _where(db.url)
    shipped = {version: name for version, name, _ in available()}
    applied: set[int] = set()
    if db.table_exists("schema_migrations"):
        applied = {int(r[0]) for r in db.query("SELECT version FROM schema_migrations")}
    missing = sorted(set(shipped) - applied)
    unknown = sorted(applied - set(shipped))
    if unknown:
        return Check(
            "database",
            "数据库",
            "fail",
            f"{where}：含本版本不认识的迁移 {', '.join(map(str, unknown))}（由更新版本的 "
            f"govwatch 创建），本版本 {__version__}",
            "请升级 govwatch 后再使用该数据库",
        )
    if missing:
        return Check(
            "database",
            "数据库",
            "fail",
            f"{where}：可连接，尚有 {len(missing)} 个迁移未应用"
            f"（{', '.join(f'{v:03d}_{shipped[v]}' for v in missing[:5])}"
            f"{' 等' if len(missing) > 5 else ''}）",
            "运行任一使用数据库的命令（如 govwatch calendar status）即会应用；"
            "govwatch serve 运行时请重启它",
        )
    return Check("database", "数据库", "ok", f"{where}：可连接，{len(shipped)} 个迁移均已应用")


# -- calendar -------------------------------------------------------------------------------


def _year_text(year: YearCoverage) -> str:
    if year.state == "official":
        source = "内置国务院通知" if year.source == "official" else year.source
        return f"{year.year} 年{year.state_name}（{source}）"
    if year.state == "provisional":
        return f"{year.year} 年{year.state_name}（仅按周末计算）"
    return f"{year.year} 年{year.state_name}（超出日历表 {FIRST_DAY.year}–{LAST_DAY.year}）"


def _calendar(db: Database, today: date) -> Check:
    coverage = calendar_coverage(db, today)
    detail = f"{_year_text(coverage.this_year)}，{_year_text(coverage.next_year)}"
    if coverage.needs_action:
        return Check("calendar", "工作日历", "fail", detail, coverage.message())
    if coverage.next_year.state != "official":
        detail += (
            f"；{coverage.next_year.year} 年的通知自 {coverage.remind_from.isoformat()} 起提醒"
        )
    return Check("calendar", "工作日历", "ok", detail)


# -- live queue and sweep -------------------------------------------------------------------


def _minutes(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} 小时 {minutes % 60} 分钟" if minutes >= 60 else f"{minutes} 分钟"


def _live_queue(db: Database, at: datetime) -> Check:
    pending, oldest = db.query("SELECT count(*), MIN(queued_at) FROM live_pending")[0]
    refresh, oldest_refresh = db.query("SELECT count(*), MIN(queued_at) FROM live_refresh")[0]
    pending, refresh = int(pending or 0), int(refresh or 0)
    detail = f"待评估 {pending} 件，待重算期限 {refresh} 件"
    stamps = [t for t in (oldest, oldest_refresh) if t is not None]
    if stamps and at - min(stamps) > LAG_LIMIT:
        return Check(
            "live_queue",
            "实时队列",
            "fail",
            f"{detail}，最早排队于 {min(stamps):%Y-%m-%d %H:%M}（已等待 {_minutes(at - min(stamps))}）",
            "实时评估未在处理：请确认 govwatch serve 正在运行（它启动后会处理积压）",
        )
    return Check("live_queue", "实时队列", "ok", detail)


def _sweep(db: Database, at: datetime) -> Check:
    rows = db.query(
        "SELECT count(*), MIN(next_check_at) FROM case_deadlines "
        "WHERE next_check_at IS NOT NULL AND next_check_at <= ? "
        "UNION ALL SELECT count(*), MIN(next_check_at) FROM rule_schedule WHERE next_check_at <= ?",
        [at, at],
    )
    due = sum(int(n or 0) for n, _ in rows)
    stamps = [t for _, t in rows if t is not None]
    if not due:
        return Check("sweep", "巡检", "ok", "没有到了检查时刻而未检查的办件")
    oldest = min(stamps)
    detail = f"{due} 件已到检查时刻，最早 {oldest:%Y-%m-%d %H:%M}（滞后 {_minutes(at - oldest)}）"
    if at - oldest > LAG_LIMIT:
        return Check(
            "sweep",
            "巡检",
            "fail",
            detail,
            "后台巡检未在运行：请启动 govwatch serve（巡检随之每 30 秒运行），"
            "否则临期、超期告警不会按时产生",
        )
    return Check("sweep", "巡检", "ok", detail)


# -- ledger ---------------------------------------------------------------------------------


def _ledger(db: Database) -> Check:
    try:
        result = verify(db)
    except GovwatchError as exc:  # e.g. the key file the entries were signed with is gone
        return Check(
            "ledger", "账本", "fail", f"无法校验：{exc}", "运行 govwatch ledger verify 查看"
        )
    if result.ok:
        return Check("ledger", "账本", "ok", f"共 {result.entries} 条记录，签名与哈希链一致")
    problems = result.problems or (result.problem,)
    more = f"等 {len(problems)} 处问题" if len(problems) > 1 else ""
    return Check(
        "ledger",
        "账本",
        "fail",
        f"{problems[0]}{more}（共读到 {result.entries} 条记录）",
        "账本记录被改动或删除：请保全数据库、密钥与锚定文件，运行 govwatch ledger verify "
        "逐条查看并上报",
    )


# -- the host -------------------------------------------------------------------------------


def _host_checks(url: str, db: Database | None) -> list[Check]:
    checks = []
    if not url.startswith(("postgresql://", "postgres://")):
        disk = _disk(url)
        if disk is not None:
            checks.append(disk)
    return [*checks, _fonts(), _pdf(), _versions(db)]


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def _disk(url: str) -> Check | None:
    try:
        path = duckdb_path(url)
    except InputError:
        return None
    if path == ":memory:":
        return None
    file = Path(path).absolute()
    used = sum(p.stat().st_size for p in (file, Path(f"{file}.wal")) if p.exists())
    folder = next((p for p in (file.parent, *file.parents) if p.exists()), Path("/"))
    free = shutil.disk_usage(folder).free
    size = f"数据库文件 {_size(used)}" if file.exists() else "数据库文件尚未创建"
    detail = f"{folder} 所在磁盘剩余 {_size(free)}，{size}"
    if free < max(MIN_FREE_BYTES, used):
        return Check(
            "disk",
            "磁盘空间",
            "fail",
            detail,
            f"请腾出空间（至少 {_size(max(MIN_FREE_BYTES, used))}：DuckDB 写检查点、导出时需要）",
        )
    return Check("disk", "磁盘空间", "ok", detail)


def _fonts() -> Check:
    if shutil.which("fc-list") is None:
        return Check(
            "fonts",
            "中文字体",
            "warn",
            "未找到 fc-list（fontconfig），无法确认",
            "生成 PDF 通报需要中文字体：安装 fontconfig 与中文字体（如 fonts-wqy-microhei）",
        )
    try:
        out = subprocess.run(
            ["fc-list", ":lang=zh", "family"],
            capture_output=True,
            text=True,
            timeout=FONT_TIMEOUT_SECONDS,
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check("fonts", "中文字体", "warn", f"fc-list 运行失败：{exc}", "检查 fontconfig")
    families = sorted({line.split(",")[0].strip() for line in out.splitlines() if line.strip()})
    if not families:
        return Check(
            "fonts",
            "中文字体",
            "warn",
            "系统中没有中文字体",
            "PDF 通报中的汉字将无法显示：安装中文字体（如 fonts-wqy-microhei、fonts-noto-cjk）",
        )
    sample = "、".join(families[:2])
    return Check("fonts", "中文字体", "ok", f"{len(families)} 种，如 {sample}")


def _pdf() -> Check:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        return Check(
            "pdf",
            "PDF 转换",
            "warn",
            "未找到 LibreOffice（soffice）",
            "通报只能生成 .docx 与 .xlsx；需要 PDF 时安装 LibreOffice（如 libreoffice-writer）",
        )
    return Check("pdf", "PDF 转换", "ok", f"LibreOffice：{found}")


def _versions(db: Database | None) -> Check:
    parts = [
        f"govwatch {__version__}",
        f"Python {platform.python_version()}",
        f"DuckDB {metadata.version('duckdb')}",
    ]
    if db is not None and db.dialect == "postgres":
        parts.append(f"PostgreSQL {db.scalar('SHOW server_version')}")
    return Check("versions", "版本", "ok", "，".join(parts))
