"""``resque-sim`` without the simulator's extra says what to install instead of a traceback."""

from __future__ import annotations

import subprocess
import sys


def test_a_missing_dependency_names_the_extra_and_exits_2() -> None:
    script = "import sys; sys.modules['simpy'] = None; from resque_sim.launch import main; main()"
    result = subprocess.run([sys.executable, "-c", script, "x.yaml"], capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "pip install 'resque-impl[sim]'" in result.stderr
    assert "Traceback" not in result.stderr
