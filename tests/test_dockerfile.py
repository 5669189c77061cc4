"""No Docker engine runs here, so the Dockerfile's promises are checked by reading it."""

from __future__ import annotations

import json
import re

from tests.conftest import ROOT
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
