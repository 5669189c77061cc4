"""A cache on disk of loaded knowledge and built indexes, so a large knowledge starts in a second.

Loading 100,000 facts from YAML and indexing them takes minutes and seconds; reading them back takes
a fraction of a second. Only knowledge of CACHE_FROM facts or more is cached: a keynote builds
faster than a cache is read. Files live in `$XDG_CACHE_HOME/keynote-bot` (`~/.cache/keynote-bot`);
each is named after a digest of what it was made from (the knowledge's bytes) and of the code that
made it (every `knowledge/*.py`, the Python and pydantic versions), so a change to either is a new
name and the stale file is never read. A file that cannot be read back whole is deleted and made
again; only the KEEP most recently used of each kind are kept. Nothing is cached when the directory
cannot be written.

The files are pickles: whoever can write the cache directory can run code as the bot, as whoever
can write its installed code can.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import os
import pickle
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydantic

CACHE_FROM = 5_000
"""Knowledge with fewer facts is neither cached nor read from the cache."""
KEEP = 4
"""Files kept of each kind (knowledge, index): a few knowledge versions, for reloads and rollbacks."""
_SUFFIX = ".pickle"
_log = logging.getLogger(__name__)


def _code_version() -> str:
    digest = hashlib.sha256(f"{sys.version}\0{pydantic.VERSION}\0".encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


CODE_VERSION = _code_version()
"""What made the cached objects: a file made by other code is never read."""


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "keynote-bot"


def _path(kind: str, key: str) -> Path:
    name = hashlib.sha256(f"{CODE_VERSION}\0{kind}\0{key}".encode()).hexdigest()[:32]
    return cache_dir() / f"{kind}-{name}{_SUFFIX}"


@contextlib.contextmanager
def long_lived() -> Iterator[None]:
    """Around making objects that live as long as the knowledge (read back here, or built by
    `build_index`): the cyclic collector is paused while they are made (it would rescan them over and
    over), and, once they are, everything is frozen out of its reach, so that collections at question
    time do not walk them."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
    gc.freeze()


def load(kind: str, key: str, expected: type) -> Any | None:
    """The object cached for `key`, or None when there is none, or none that reads back whole and is
    what was asked for (such a file is deleted). It is read `long_lived`."""
    path = _path(kind, key)
    try:
        data = path.read_bytes()
    except OSError:
        return None
    try:
        with long_lived():
            stored_key, value = pickle.loads(data)
    except Exception as error:  # a truncated or foreign file raises whatever unpickling meets
        _log.warning("knowledge cache: %s is unreadable (%s); rebuilding", path, error)
        path.unlink(missing_ok=True)
        return None
    if stored_key != key or not isinstance(value, expected):
        _log.warning("knowledge cache: %s holds something else; rebuilding", path)
        path.unlink(missing_ok=True)
        return None
    os.utime(path)
    return value


def save(kind: str, key: str, value: Any) -> None:
    """Cache `value` for `key`, written whole or not at all; older files of the kind beyond KEEP are
    removed. A cache that cannot be written is skipped (it is an optimisation, never a requirement)."""
    path = _path(kind, key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as file:
            written = Path(file.name)
            try:
                pickle.dump((key, value), file, protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException:
                written.unlink()
                raise
        written.replace(path)
        kept = sorted(path.parent.glob(f"{kind}-*{_SUFFIX}"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in kept[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError as error:
        _log.warning("knowledge cache: cannot write %s (%s); not cached", path, error)
