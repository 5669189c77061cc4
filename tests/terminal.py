"""`python -m bot` on a pseudo-terminal, read through a terminal emulator: the screen a user sees.

pexpect runs the bot on a real pty (so it sees a terminal, as in `docker run -it`); pyte plays the
terminal, applying every escape sequence (cursor moves, erasing, redrawing the prompt), so tests
assert on the screen's lines rather than on the bytes that drew them.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

import pexpect
import pyte

from tests.conftest import CLI_CWD

KEYS = {"up": "\x1b[A", "left": "\x1b[D", "delete": "\x1b[3~", "ctrl-l": "\x0c", "ctrl-d": "\x04"}


class Terminal:
    def __init__(self, *args: str, env: dict[str, str] | None = None, rows: int = 50, columns: int = 100):
        self.screen = pyte.Screen(columns, rows)
        self._stream = pyte.ByteStream(self.screen)
        self.seen = b""
        """Every byte the bot wrote, for checks on what was never drawn (a raw `^[[A`)."""
        full = {
            **os.environ,
            "TERM": "xterm-256color",
            "COLUMNS": str(columns),
            "LINES": str(rows),
            # A real terminal answers prompt_toolkit's cursor position request; this one does not.
            "PROMPT_TOOLKIT_NO_CPR": "1",
            **(env or {}),
        }
        self.child = pexpect.spawn(
            sys.executable, ["-m", "bot", *args], cwd=str(CLI_CWD), env=full, dimensions=(rows, columns)
        )

    def type(self, keys: str) -> None:
        self.child.send(keys)

    def press(self, key: str, times: int = 1) -> None:
        self.child.send(KEYS[key] * times)

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display).rstrip()

    def cursor_line(self) -> str:
        """The line the cursor is on: the prompt and what is typed after it."""
        return self.screen.display[self.screen.cursor.y].rstrip()

    def wait_for(self, condition: Callable[[Terminal], bool], timeout: float = 30) -> None:
        """Read the bot's output until `condition` holds of the screen; fail showing the screen if not."""
        deadline = time.monotonic() + timeout
        while not condition(self):
            if time.monotonic() > deadline:
                raise AssertionError(f"the screen never matched; it shows:\n{self.text()}")
            if not self._read(0.1):
                raise AssertionError(f"the bot exited; the screen shows:\n{self.text()}")

    def wait_for_prompt(self, prompt: str = ">") -> None:
        self.wait_for(lambda t: t.cursor_line() == prompt)

    def exit_status(self, timeout: float = 30) -> int | None:
        """Read until the bot exits; its exit status."""
        deadline = time.monotonic() + timeout
        while self._read(0.1) and time.monotonic() < deadline:
            pass
        self.child.close()
        return self.child.exitstatus

    def close(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)
        self.child.close()

    def _read(self, timeout: float) -> bool:
        """Feed what the bot wrote within `timeout` to the screen; False once it has exited."""
        try:
            data = self.child.read_nonblocking(65536, timeout=timeout)
        except pexpect.TIMEOUT:
            return True
        except pexpect.EOF:
            return False
        self.seen += data
        self._stream.feed(data)
        return True
