"""A `.env` file an editor saved in the wrong encoding is a settings error naming the file, not a crash."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def test_a_dotenv_with_invalid_utf8_names_the_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"LOG_LEVEL=INFO\nSLACK_ADMIN_USER_IDS=U1,Jos\xe9\n")
    run = subprocess.run(
        [sys.executable, "-m", "bot", "health"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert str(tmp_path / ".env") in run.stderr and "not UTF-8" in run.stderr
