"""Skip a case that cannot run here, or fail it where it must run.

A skip keeps a run green without running the case. Skipping is right on a machine that lacks what the
case needs (a PostgreSQL server, a sibling checkout), and wrong where the case must run: under CI a
case that quietly stopped running must turn the build red. So every skip goes through `skip_or_fail`,
which fails instead when the flag it names is on: `CI` (set to `true` by CI services) for a case that
can run everywhere, a `REQUIRE_*` flag for one that needs something only some machines have.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

ON = frozenset({"1", "true", "yes", "on"})


def flag_on(name: str) -> bool:
    """Whether the environment variable `name` is set to a true value (`1`, `true`, `yes`, `on`)."""
    return os.environ.get(name, "").strip().lower() in ON


def skip_or_fail(reason: str, *, unless: str = "CI") -> NoReturn:
    """Skip this case with `reason`, or fail it with `reason` when the flag `unless` is on."""
    __tracebackhide__ = True  # report the skip at the caller's line, not here
    if flag_on(unless):
        pytest.fail(f"{unless}={os.environ[unless]} but {reason}", pytrace=False)
    pytest.skip(reason)
