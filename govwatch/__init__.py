"""govwatch: electronic supervision and evaluation of Internet + government services."""

from __future__ import annotations

__version__ = "0.1.0"
