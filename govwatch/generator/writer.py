"""Run a generation: the catalog, then the cases in fixed-size chunks, then the files.

Determinism: the catalog comes from a random stream derived from the seed; chunk ``k`` (cases
``k*chunk_size`` onwards) from its own stream derived from (seed, k). Chunks are rendered in
worker processes when there are several, and written in chunk order, so the bytes of every
file depend only on the seed, the number of cases and the options, never on the number of
workers.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

from govwatch.errors import InputError
from govwatch.generator.cases import Builder
from govwatch.generator.config import END_AT, START_AT, GeneratorConfig
from govwatch.generator.geography import build_province
from govwatch.generator.items import ItemSpec, build_catalog
from govwatch.generator.workdays import WorkCalendar, build_calendar

GENERATOR_VERSION = 1


@dataclass(frozen=True)
class GenerationSummary:
    out_dir: Path
    items: int
    cases: int
    events: int
    findings: int
    bytes_written: int


def derived_seed(seed: int, label: str) -> int:
    digest = hashlib.sha256(
        f"govwatch-generator:{GENERATOR_VERSION}:{seed}:{label}".encode()
    ).digest()
    return int.from_bytes(digest[:8], "big")


# Per-process state of a worker (set by _init, or directly when running inline).
_STATE: dict[str, object] = {}


def _init(specs: Sequence[ItemSpec], config: GeneratorConfig) -> None:
    _STATE["cal"] = build_calendar()
    _STATE["specs"] = list(specs)
    _STATE["config"] = config


def _run_chunk(chunk: int) -> tuple[bytes, bytes, int, int]:
    """Render chunk ``chunk``: (events JSONL, truth JSONL, events, findings)."""
    config = _STATE["config"]
    cal = _STATE["cal"]
    specs = _STATE["specs"]
    assert (
        isinstance(config, GeneratorConfig)
        and isinstance(cal, WorkCalendar)
        and isinstance(specs, list)
    )
    rng = random.Random(derived_seed(config.seed, f"chunk:{chunk}"))
    builder = Builder(cal, specs, config, rng)
    first = chunk * config.chunk_size
    last = min(config.cases, first + config.chunk_size)
    events: list[bytes] = []
    truth: list[bytes] = []
    for case_no in range(first, last):
        lines, found = builder.build(case_no)
        events += lines
        truth += found
    events.append(b"")
    if truth:
        truth.append(b"")
    return b"\n".join(events), b"\n".join(truth), len(events) - 1, len(truth) - 1 if truth else 0


def _chunks(
    specs: list[ItemSpec], config: GeneratorConfig
) -> Iterator[tuple[bytes, bytes, int, int]]:
    workers = config.workers or os.cpu_count() or 1
    workers = min(workers, config.chunks)
    if workers <= 1:
        _init(specs, config)
        for chunk in range(config.chunks):
            yield _run_chunk(chunk)
        return
    ctx = multiprocessing.get_context(
        "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    )
    with ctx.Pool(workers, initializer=_init, initargs=(specs, config)) as pool:
        yield from pool.imap(_run_chunk, range(config.chunks), chunksize=1)


def generate(
    config: GeneratorConfig,
    out_dir: Path | str,
    *,
    progress: Callable[[int], None] | None = None,
) -> GenerationSummary:
    """Write catalog.jsonl, events.jsonl, truth.jsonl and meta.json into ``out_dir``.

    ``progress``, when given, is called with the number of cases written after each chunk.
    """
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"无法创建输出目录 {out}：{exc.strerror}；请换一个可写的目录") from exc
    province = build_province(random.Random(derived_seed(config.seed, "province")))
    records, specs = build_catalog(random.Random(derived_seed(config.seed, "catalog")), province)
    size = 0
    with (out / "catalog.jsonl").open("wb") as fh:
        for record in records:
            size += fh.write(orjson.dumps(record) + b"\n")
    n_events = n_findings = 0
    with (out / "events.jsonl").open("wb") as ev, (out / "truth.jsonl").open("wb") as tr:
        for chunk, (events, truth, n_ev, n_tr) in enumerate(_chunks(specs, config)):
            size += ev.write(events) + tr.write(truth)
            n_events += n_ev
            n_findings += n_tr
            if progress is not None:
                first = chunk * config.chunk_size
                progress(min(config.cases, first + config.chunk_size) - first)
    meta = {
        "seed": config.seed,
        "cases": config.cases,
        "start_at": START_AT,
        "end_at": END_AT,
        "items": len(records),
        "events": n_events,
        "findings": n_findings,
        "violation_rates": dict(config.rates),
        "compact_time_share": config.compact_time_share,
        "chunk_size": config.chunk_size,
        "generator_version": GENERATOR_VERSION,
    }
    size += (out / "meta.json").write_bytes(orjson.dumps(meta, option=orjson.OPT_INDENT_2) + b"\n")
    return GenerationSummary(out, len(records), config.cases, n_events, n_findings, size)
