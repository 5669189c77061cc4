"""The prompt on a terminal: prompt_toolkit's line editing and history, and output that comes while it
is showing printed above it.

Replies are printed between prompts, straight to the terminal. What arrives while the prompt is
showing (a scheduled digest, a log line such as a failed knowledge reload) goes through
prompt_toolkit's stdout proxy, which erases the prompt, prints, and redraws the prompt with the words
being typed.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from typing import IO, TextIO, cast

from prompt_toolkit import PromptSession
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.input import create_input
from prompt_toolkit.output import create_output
from prompt_toolkit.patch_stdout import patch_stdout


class Prompt:
    """Reads lines with editing (←/→, Home/End, Ctrl-A/E/K/U/W), history (↑/↓) and Ctrl-L to clear."""

    def __init__(self, session: PromptSession[str], above: TextIO) -> None:
        self.session = session
        self.above = above
        """Text written here appears above the prompt, which is then redrawn."""

    async def read(self, message: str) -> str:
        """The next line; EOFError on Ctrl-D, KeyboardInterrupt on Ctrl-C."""
        return await self.session.prompt_async(message)


@contextlib.contextmanager
def prompting(stdin: TextIO, stdout: IO[str]) -> Iterator[Prompt]:
    """A prompt on the terminal `stdin`/`stdout`; meanwhile `sys.stdout`, `sys.stderr` and the log
    handlers writing to them print above the prompt."""
    # prompt_toolkit's default app session, not one of our own: the proxy's writes come back through
    # other threads and tasks, and only the default session is theirs too.
    terminal = {sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__}
    with patch_stdout(raw=True), _logs_to(sys.stderr, terminal):
        session: PromptSession[str] = PromptSession(
            input=create_input(stdin),
            output=create_output(cast(TextIO, stdout)),  # rich types a console's file IO[str]
            # Kept for the session only: the bot stores no one's words, nor does its prompt.
            history=InMemoryHistory(),
        )
        yield Prompt(session, sys.stdout)


@contextlib.contextmanager
def _logs_to(stream: TextIO, terminal: set[TextIO | None]) -> Iterator[None]:
    """Point the root logger's handlers that write to the `terminal` streams at `stream` for a while:
    they hold the stream they were made with, not the proxy now in `sys.stderr`."""
    moved: list[tuple[logging.StreamHandler[TextIO], TextIO]] = []
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and handler.stream in terminal:
            moved.append((handler, handler.stream))
            handler.setStream(stream)
    try:
        yield
    finally:
        for handler, original in moved:
            handler.setStream(original)
