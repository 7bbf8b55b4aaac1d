"""Hypothesis settings of the fuzz tests (the importer's and ``POST /api/v1/events``).

``make test`` runs a bounded, derandomised number of examples (the same every run, about
half a minute per engine); ``make fuzz`` sets ``GOVWATCH_FUZZ=long`` for many random examples.
``GOVWATCH_FUZZ_EXAMPLES`` overrides the count of either. No example database is written.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_QUIET = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]

settings.register_profile(
    "govwatch-bounded",
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=_QUIET,
    print_blob=True,
)
settings.register_profile(
    "govwatch-long",
    deadline=None,
    database=None,
    suppress_health_check=_QUIET,
    print_blob=True,
)

LONG = os.environ.get("GOVWATCH_FUZZ", "") == "long"
_PROFILE = settings.get_profile("govwatch-long" if LONG else "govwatch-bounded")


def fuzz_settings(bounded: int, long: int = 500) -> settings:
    """The settings of one fuzz test: ``bounded`` examples in ``make test``, ``long`` in
    ``make fuzz``."""
    count = int(os.environ.get("GOVWATCH_FUZZ_EXAMPLES", long if LONG else bounded))
    return settings(_PROFILE, max_examples=count)
