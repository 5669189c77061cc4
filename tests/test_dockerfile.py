"""No Docker engine runs here, so the Dockerfile's promises are checked by reading it, and its default
command is run the way a container without a terminal runs it (stdin /dev/null)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from tests.conftest import CLI_CWD, ROOT, run_bot
from tests.test_readme import command_under

DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")


def instructions() -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    lines = [
        line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")
    ]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for instruction in instructions():
        if instruction[0] == "FROM":
            result.append([])
        result[-1].append(instruction)
    return result


def test_multi_stage_on_a_slim_python_base() -> None:
    bases = [args.split()[0] for stage in stages() for op, args in stage if op == "FROM"]
    assert len(bases) >= 2
    assert all(re.fullmatch(r"python:3\.1[1-9]-slim(-\w+)?", base) for base in bases), bases


def test_final_stage_runs_as_non_root_without_build_tools() -> None:
    final = stages()[-1]
    users = [args for op, args in final if op == "USER"]
    assert users and users[-1] not in {"root", "0"}
    runs = " ".join(args for op, args in final if op == "RUN")
    assert not re.search(r"apt-get install|gcc|build-essential|pip install", runs)


def test_knowledge_is_baked_in_and_install_matches_the_readme() -> None:
    build = stages()[0]
    copied = [args.split()[0] for op, args in build if op == "COPY"]
    assert "knowledge" in copied
    install = next(args for op, args in build if op == "RUN" and "pip install" in args)
    readme_install = command_under("Run the bot").rsplit(" && ", 1)[0]
    assert install == readme_install


def test_healthcheck_and_cmd_start_the_platform_from_the_environment() -> None:
    final = dict(stages()[-1])
    assert "HEALTHCHECK" in final and "CMD" in final["HEALTHCHECK"]
    cmd = json.loads(final["CMD"])
    assert cmd[-1] == "run", "CMD must start the platform named by BOT_PLATFORM"
    assert "BOT_PLATFORM=" in final["ENV"]


def image_environment() -> dict[str, str]:
    """The final stage's ENV, as the container sees it."""
    values: dict[str, str] = {}
    for op, args in stages()[-1]:
        if op == "ENV":
            for pair in args.split():
                name, _, value = pair.partition("=")
                values[name] = value
    return values


def test_without_a_terminal_the_default_command_says_what_to_set_and_fails() -> None:
    """`docker run -d keynote-bot` (stdin /dev/null, no tokens) must not end silently with success."""
    cmd = json.loads(dict(stages()[-1])["CMD"])
    assert cmd[0] == "keynote-bot"
    environment = {k: v for k, v in image_environment().items() if k in ("BOT_PLATFORM", "PYTHONUNBUFFERED")}
    started = subprocess.run(
        [sys.executable, "-m", "bot", *cmd[1:]],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=CLI_CWD,
        env={**os.environ, **environment},
        timeout=60,
    )
    assert started.returncode != 0
    named = ("BOT_PLATFORM", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "DISCORD_TOKEN", "docker run -it")
    assert all(name in started.stderr for name in named), started.stderr
    assert started.stdout == ""


def test_with_a_platforms_tokens_but_no_platform_it_names_the_platform_and_hides_the_tokens() -> None:
    started = subprocess.run(
        [sys.executable, "-m", "bot"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=CLI_CWD,
        env={**os.environ, "DISCORD_TOKEN": "discord-secret-value"},
        timeout=60,
    )
    assert started.returncode != 0
    assert "DISCORD_TOKEN set: did you mean BOT_PLATFORM=discord?" in started.stderr
    assert "discord-secret-value" not in started.stderr


def test_piped_questions_still_reach_the_console_without_a_terminal() -> None:
    """`printf '...' | docker run -i keynote-bot`: a pipe is input, so the console answers it."""
    answered = run_bot(stdin="how many cores does graviton5 have?\n")
    assert answered.returncode == 0, answered.stderr
    assert "192" in answered.stdout
