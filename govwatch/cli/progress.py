"""Progress bars for long commands, on stderr, only on a terminal.

``with progress("导入办件事件", total=n, unit="条") as advance:`` gives a callable that the work
calls with the number of records (cases, …) done since its last call; on a terminal a rich
progress bar shows the count, the rate, the time elapsed and the time left. ``with
activity("运行监察规则"):`` is a spinner with the time elapsed, for work that reports no counts. When stderr is not
a terminal (a pipe, a log file, a cron job) or ``--quiet`` was given, nothing is drawn and the
callable does nothing, so scripts and logs see exactly the lines they saw before.

A total that is not known in advance is estimated (:func:`estimate_records`): exactly for small
text files, from a sample of the first megabytes for large ones, from Parquet's metadata; the
bar then ends at the true count. Without any estimate the bar shows the count and the rate only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
)
from rich.text import Text

from govwatch.cli.options import RUN

Advance = Callable[[int], None]

# Text files up to this size are counted line by line; larger ones from a sample this big.
COUNT_EXACT_BYTES = 64 * 2**20
SAMPLE_BYTES = 8 * 2**20
_LINE_FORMATS = (".jsonl", ".ndjson", ".json", ".csv", ".tsv", ".txt")
_HEADER_FORMATS = (".csv", ".tsv", ".txt")


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    return str(timedelta(seconds=int(seconds))).removeprefix("0:")


class _RateColumn(ProgressColumn):
    """Records a second, in the bar's unit, on average since the start."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        # the average since the start: chunks of 100,000 records leave rich's own estimate
        # (over the last 30 s of updates) without samples for most of a small import
        elapsed = task.finished_time or task.elapsed
        if not elapsed or not task.completed:
            return Text(f"– {self.unit}/秒", style="progress.data.speed")
        return Text(f"{task.completed / elapsed:,.0f} {self.unit}/秒", style="progress.data.speed")


class _ElapsedColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"已用 {_clock(task.finished_time or task.elapsed)}", style="progress.elapsed")


class _RemainingColumn(ProgressColumn):
    """Time left; nothing when the total is unknown."""

    max_refresh = 0.5

    def render(self, task: Task) -> Text:
        if task.total is None:
            return Text("")
        if task.finished:
            return Text("完成", style="progress.remaining")
        return Text(f"剩余 {_clock(task.time_remaining)}", style="progress.remaining")


def _console() -> Console | None:
    """A console on stderr when progress may be drawn there (a terminal, not --quiet)."""
    if RUN.quiet:
        return None
    console = Console(stderr=True)
    return console if console.is_terminal else None


@contextmanager
def progress(label: str, *, total: int | None = None, unit: str = "条") -> Iterator[Advance]:
    """A progress bar on stderr for the work inside the block (nothing off a terminal)."""
    console = _console()
    if console is None:
        yield _nothing
        return
    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        _RateColumn(unit),
        _ElapsedColumn(),
        _RemainingColumn(),
        console=console,
        transient=False,
    )
    task = bar.add_task(label, total=total)
    with bar:
        yield lambda n: bar.advance(task, n)
        done = int(bar.tasks[0].completed)
        bar.update(task, total=done, completed=done)


@contextmanager
def activity(label: str) -> Iterator[None]:
    """A spinner and the time elapsed, for work that reports no counts (nothing off a terminal)."""
    console = _console()
    if console is None:
        yield
        return
    bar = Progress(
        SpinnerColumn(), TextColumn("{task.description}"), _ElapsedColumn(), console=console
    )
    task = bar.add_task(label, total=None)
    with bar:
        yield
        bar.update(task, total=1, completed=1)


def _nothing(_n: int) -> None:
    return None


def drawing() -> bool:
    """True when a progress bar would be drawn (a terminal on stderr, no --quiet)."""
    return _console() is not None


def estimate_records(paths: Sequence[Path]) -> int | None:
    """About how many records the files (or directories' files) hold; None when unknown."""
    total = 0
    for path in paths:
        files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
        for file in files:
            counted = _estimate_file(file)
            if counted is None:
                return None
            total += counted
    return total


def _estimate_file(path: Path) -> int | None:
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return int(pq.ParquetFile(path).metadata.num_rows)
        if suffix not in _LINE_FORMATS:
            return None
        size = path.stat().st_size
        with path.open("rb") as fh:
            sample = fh.read(COUNT_EXACT_BYTES if size <= COUNT_EXACT_BYTES else SAMPLE_BYTES)
    except (OSError, ValueError):
        return None  # the import itself says what is wrong with the file
    if not sample:
        return 0
    lines = sample.count(b"\n") + (0 if sample.endswith(b"\n") else 1)
    if len(sample) < size:
        lines = round(lines * size / len(sample))
    return max(0, lines - (1 if suffix in _HEADER_FORMATS else 0))
