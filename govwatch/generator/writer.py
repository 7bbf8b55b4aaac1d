"""Run a generation: the catalog, then the cases in fixed-size chunks, then the files.

Determinism: the catalog comes from a random stream derived from the seed; chunk ``k`` (cases
``k*chunk_size`` onwards) from its own stream derived from (seed, k). Chunks are rendered in
worker processes when there are several, and written in chunk order, so the bytes of every
file depend only on the seed, the number of cases and the options, never on the number of
workers.

Guide faults (generator/guides.py) come from a stream of their own, (seed, "guides"), drawn
after the catalog: they change guides only, so events.jsonl and truth.jsonl stay what they
were for a seed, except the cases of items given the ``unlisted_step`` fault (two more events
each; no rule finding changes). Each chunk also returns its :class:`Tally` of what its cases
show against the guides; summed, it gives the practice lines of guides_truth.jsonl.
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
from govwatch.generator.guide_practice import ItemFacts, Observer, Tally, item_facts
from govwatch.generator.guides import Fault, fault_findings, inject_faults, sort_key
from govwatch.generator.items import ItemSpec, build_catalog
from govwatch.generator.plan import Plan
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
    guide_findings: int = 0


def derived_seed(seed: int, label: str) -> int:
    digest = hashlib.sha256(
        f"govwatch-generator:{GENERATOR_VERSION}:{seed}:{label}".encode()
    ).digest()
    return int.from_bytes(digest[:8], "big")


class _ObservedBuilder(Builder):
    """The chunk's builder, keeping the plan of the case it is rendering: the guide tally
    counts cases from their plans (:meth:`Builder.build` places every plan once)."""

    plan: Plan | None = None

    def place(self, plan: Plan) -> int:
        self.plan = plan
        return super().place(plan)


# Per-process state of a worker (set by _init, or directly when running inline).
_STATE: dict[str, object] = {}


def _init(specs: Sequence[ItemSpec], config: GeneratorConfig, facts: dict[str, ItemFacts]) -> None:
    _STATE["cal"] = build_calendar()
    _STATE["specs"] = list(specs)
    _STATE["config"] = config
    _STATE["facts"] = facts


Chunk = tuple[bytes, bytes, int, int, Tally]


def _run_chunk(chunk: int) -> Chunk:
    """Render chunk ``chunk``: (events JSONL, truth JSONL, events, findings, guide tally)."""
    config = _STATE["config"]
    cal = _STATE["cal"]
    specs = _STATE["specs"]
    facts = _STATE["facts"]
    assert (
        isinstance(config, GeneratorConfig)
        and isinstance(cal, WorkCalendar)
        and isinstance(specs, list)
        and isinstance(facts, dict)
    )
    rng = random.Random(derived_seed(config.seed, f"chunk:{chunk}"))
    builder = _ObservedBuilder(cal, specs, config, rng)
    observer = Observer(facts, cal)
    first = chunk * config.chunk_size
    last = min(config.cases, first + config.chunk_size)
    events: list[bytes] = []
    truth: list[bytes] = []
    for case_no in range(first, last):
        lines, found = builder.build(case_no)
        assert builder.plan is not None
        lines, found = observer.observe(builder.plan, lines, found)
        events += lines
        truth += found
    events.append(b"")
    if truth:
        truth.append(b"")
    n_truth = len(truth) - 1 if truth else 0
    return b"\n".join(events), b"\n".join(truth), len(events) - 1, n_truth, observer.tally


def _chunks(
    specs: list[ItemSpec], config: GeneratorConfig, facts: dict[str, ItemFacts]
) -> Iterator[Chunk]:
    workers = config.workers or os.cpu_count() or 1
    workers = min(workers, config.chunks)
    if workers <= 1:
        _init(specs, config, facts)
        for chunk in range(config.chunks):
            yield _run_chunk(chunk)
        return
    ctx = multiprocessing.get_context(
        "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    )
    with ctx.Pool(workers, initializer=_init, initargs=(specs, config, facts)) as pool:
        yield from pool.imap(_run_chunk, range(config.chunks), chunksize=1)


def _facts(records: Sequence[dict[str, object]], faults: Sequence[Fault]) -> dict[str, ItemFacts]:
    by_code = {f.item_code: f for f in faults}
    out = {}
    for r in records:
        code = str(r["item_code"])
        fault = by_code.get(code)
        out[code] = item_facts(
            r["guide"], fault.kind if fault else "", fault.unlisted_step if fault else ""
        )
    return out


def generate(
    config: GeneratorConfig,
    out_dir: Path | str,
    *,
    progress: Callable[[int], None] | None = None,
) -> GenerationSummary:
    """Write catalog.jsonl, events.jsonl, truth.jsonl, guides_truth.jsonl and meta.json into
    ``out_dir``.

    ``progress``, when given, is called with the number of cases written after each chunk.
    """
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"无法创建输出目录 {out}：{exc.strerror}；请换一个可写的目录") from exc
    province = build_province(random.Random(derived_seed(config.seed, "province")))
    records, specs = build_catalog(random.Random(derived_seed(config.seed, "catalog")), province)
    faults = inject_faults(
        records, random.Random(derived_seed(config.seed, "guides")), config.guide_rates
    )
    facts = _facts(records, faults)
    tally = Tally()
    size = 0
    with (out / "catalog.jsonl").open("wb") as fh:
        for record in records:
            size += fh.write(orjson.dumps(record) + b"\n")
    n_events = n_findings = 0
    with (out / "events.jsonl").open("wb") as ev, (out / "truth.jsonl").open("wb") as tr:
        for chunk, (events, truth, n_ev, n_tr, part) in enumerate(_chunks(specs, config, facts)):
            size += ev.write(events) + tr.write(truth)
            tally.add(part)
            n_events += n_ev
            n_findings += n_tr
            if progress is not None:
                first = chunk * config.chunk_size
                progress(min(config.cases, first + config.chunk_size) - first)
    guide_truth = sorted(fault_findings(faults) | tally.findings(), key=sort_key)
    with (out / "guides_truth.jsonl").open("wb") as gt:
        for code, element, check in guide_truth:
            size += gt.write(
                orjson.dumps({"item_code": code, "element": element, "check": check}) + b"\n"
            )
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
        "guide_fault_rates": dict(config.guide_rates),
        "guide_faults": [
            {"item_code": f.item_code, "kind": f.kind, "detail": f.detail} for f in faults
        ],
        "guide_findings": len(guide_truth),
    }
    size += (out / "meta.json").write_bytes(orjson.dumps(meta, option=orjson.OPT_INDENT_2) + b"\n")
    return GenerationSummary(
        out, len(records), config.cases, n_events, n_findings, size, len(guide_truth)
    )
