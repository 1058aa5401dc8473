"""Running a page's walkthrough as a reader would: its Python blocks written to the files their first
line names, then its shell commands run one by one in that folder against a private redis-server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def section(text: str, title: str) -> str:
    """The ``## title`` section of a Markdown page, up to the next ``## `` heading."""
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def blocks(text: str, language: str) -> list[str]:
    """The bodies of the fenced code blocks of ``language``."""
    return [body for lang, body in FENCE.findall(text) if lang == language]


def run_walkthrough(walkthrough: str, folder: Path, redis_url: str) -> list[str]:
    """Write the walkthrough's Python blocks (each starting ``# name.py``) into ``folder``, run its one
    shell block's commands there with ``REDIS_URL`` set (each must exit 0), and return what each printed."""
    for block in blocks(walkthrough, "python"):
        name = block.splitlines()[0].removeprefix("# ")
        assert name.endswith(".py"), f"each Python block of the walkthrough starts with its file name: {block[:60]!r}"
        (folder / name).write_text(block)
    (commands,) = blocks(walkthrough, "bash")
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "REDIS_URL": redis_url, "PATH": bin_dir + os.pathsep + os.environ["PATH"]}
    env.pop("PYTEST_ADDOPTS", None)
    outputs = []
    for line in commands.splitlines():
        command = line.split("  #")[0].strip()
        done = subprocess.run(
            command, shell=True, cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, f"{command!r} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        outputs.append(done.stdout + done.stderr)
    return outputs
