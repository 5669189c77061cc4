"""Shared pieces for the storage, scheduler, subscription and gaps tests.

Test modules import the fixtures by their function names (`db_url_fixture`, `storage_fixture`);
tests ask for them as `db_url` and `storage`.

`db_url` gives each test an empty database: a SQLite file, and the real PostgreSQL in a schema of
its own (dropped afterwards). Without PostgreSQL those cases skip, unless REQUIRE_POSTGRES=1 (CI),
where they fail (tests.skips.skip_or_fail).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from bot.replies import Reply
from bot.storage import Storage, database_url
from knowledge.loader import BUNDLED_DIR, PACK_FILE
from tests.skips import skip_or_fail

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_postgres_problem: list[str] = []


def _postgres_admin() -> sa.Engine:
    engine = sa.create_engine(database_url(POSTGRES_URL), connect_args={"connect_timeout": 3})
    if not _postgres_problem:
        try:
            with engine.connect():
                _postgres_problem.append("")
        except sa.exc.OperationalError as error:
            _postgres_problem.append(str(error).splitlines()[0])
    if _postgres_problem[0]:
        engine.dispose()
        reason = f"PostgreSQL not reachable at {POSTGRES_URL} ({_postgres_problem[0]}); set TEST_DATABASE_URL"
        skip_or_fail(reason, unless="REQUIRE_POSTGRES")
    return engine


@pytest.fixture(name="db_url", params=["sqlite", "postgres"])
def db_url_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'bot.sqlite3'}"
        return
    admin = _postgres_admin()
    schema = f"test_{uuid.uuid4().hex[:12]}"
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.make_url(database_url(POSTGRES_URL)).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(name="storage")
def storage_fixture(db_url: str) -> Iterator[Storage]:
    opened = Storage(db_url, user_salt="test-salt")
    yield opened
    opened.close()


class Clock:
    """The time as the test says it is."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


class RecordingPoster:
    """A Poster that keeps what it was asked to post; `failures[channel]` posts to a channel fail first."""

    def __init__(self, platform: str = "slack", failures: dict[str, int] | None = None) -> None:
        self.platform = platform
        self.posts: list[tuple[str, Reply]] = []
        self.failures = dict(failures or {})
        self.attempts: Counter[str] = Counter()

    async def post(self, channel: str, reply: Reply) -> None:
        self.attempts[channel] += 1
        if self.failures.get(channel, 0) > 0:
            self.failures[channel] -= 1
            raise ConnectionError(f"channel {channel} is unreachable")
        self.posts.append((channel, reply))

    def channels(self) -> list[str]:
        return [channel for channel, _ in self.posts]


def _bilingual(en: str, zh: str) -> dict[str, str]:
    return {"en": en, "zh": zh}


def write_knowledge(directory: Path, cores: int = 192, extra_launch: bool = False) -> Path:
    """A small knowledge directory: a compute launch and an AI-chip launch, each with one fact."""
    facts = [
        {
            "id": "g5-cores",
            "topic": "graviton",
            "timestamp": "1:28:00",
            "questions": {"en": ["How many cores does Graviton5 have?"], "zh": ["Graviton5有多少个核心？"]},
            "answer": _bilingual(f"Graviton5 has {cores} cores.", f"Graviton5 有 {cores} 个核心。"),
        },
        {
            "id": "trn3-memory",
            "topic": "trainium",
            "timestamp": "1:50:00",
            "questions": {"en": ["How much memory does Trainium3 have?"], "zh": ["Trainium3有多少内存？"]},
            "answer": _bilingual("Trainium3 has 144 GB of HBM3e.", "Trainium3 配备 144 GB HBM3e。"),
        },
    ]
    launches = [
        _launch("graviton5", "Graviton5", "compute", "g5-cores", "Our most powerful CPU.", "最强的 CPU。"),
        _launch("trainium3", "Trainium3", "ai-chips", "trn3-memory", "A 3nm AI chip.", "3 纳米 AI 芯片。"),
    ]
    if extra_launch:
        facts.append(
            {
                "id": "s3v-scale",
                "topic": "s3-vectors",
                "timestamp": "1:00:00",
                "questions": {"en": ["How big can an S3 vector index be?"], "zh": ["S3向量索引能有多大？"]},
                "answer": _bilingual("Two billion vectors per index.", "每个索引二十亿个向量。"),
            }
        )
        launches.append(
            _launch(
                "s3-vectors", "S3 Vectors", "vector-search", "s3v-scale", "Vectors in S3.", "S3 里的向量。"
            )
        )
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "facts.yaml"
    path.write_text(
        yaml.safe_dump({"facts": facts, "launches": launches}, allow_unicode=True), encoding="utf-8"
    )
    # The bundled pack's description (its themes and their names), without its list of topics.
    pack = yaml.safe_load((BUNDLED_DIR / PACK_FILE).read_text(encoding="utf-8"))
    pack.pop("topics", None)
    (directory / PACK_FILE).write_text(yaml.safe_dump(pack, allow_unicode=True), encoding="utf-8")
    return directory


def _launch(launch_id: str, name: str, theme: str, fact: str, en: str, zh: str) -> dict[str, object]:
    return {
        "id": launch_id,
        "name": name,
        "theme": theme,
        "status": "ga",
        "status_note": _bilingual("Available today", "今日可用"),
        "timestamp": "1:00:00",
        "summary": _bilingual(en, zh),
        "details": _bilingual(en, zh),
        "facts": [fact],
    }


@pytest.fixture(name="postgres_url")
def postgres_url_fixture() -> Iterator[str]:
    """An empty schema on the shared PostgreSQL, for tests that need several processes on one database."""
    admin = _postgres_admin()
    schema = f"test_{uuid.uuid4().hex[:12]}"
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.make_url(database_url(POSTGRES_URL)).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


class OwnPostgres:
    """A PostgreSQL server of the test's own (initdb in a temporary directory, a free port on 127.0.0.1),
    which the test may freeze with SIGSTOP without touching the shared one."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.directory = Path(tempfile.mkdtemp(prefix="keynote-pg-"))
        self.data = self.directory / "data"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        self.frozen: list[int] = []

    @staticmethod
    def binaries() -> Path | None:
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if found:
            return found[-1].parent
        initdb = shutil.which("initdb")
        return Path(initdb).parent if initdb else None

    def _run(self, *command: str) -> None:
        user = "postgres" if os.geteuid() == 0 else None
        subprocess.run(command, check=True, capture_output=True, timeout=120, user=user, cwd=self.directory)

    def start(self) -> None:
        bin_dir = self.binaries()
        if bin_dir is None:
            skip_or_fail(
                "no initdb/pg_ctl to start a PostgreSQL of the test's own", unless="REQUIRE_POSTGRES"
            )
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres")
        self._run(
            str(bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.directory}"
        )
        log_file = str(self.directory / "server.log")  # not our pipes: pg_ctl would never let them close
        self._run(
            str(bin_dir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            log_file,
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def pids(self) -> list[int]:
        """The postmaster and its children."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == postmaster:
                children.append(int(stat.parent.name))
        return [*children, postmaster]

    def freeze(self) -> None:
        self.frozen = self.pids()
        for pid in self.frozen:
            os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in reversed(self.frozen):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        self.frozen = []

    def stop(self) -> None:
        self.thaw()
        bin_dir = self.binaries()
        if bin_dir is not None and self.data.exists():
            with contextlib.suppress(subprocess.SubprocessError):
                self._run(str(bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.directory, ignore_errors=True)
