"""docs/tracing.md says what is true: its in-code example runs as written and prints what it says."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.docs.walkthrough import ROOT, blocks, section

PAGE = ROOT / "docs" / "tracing.md"


def test_the_in_code_example_runs_and_the_payload_carries_the_send_span() -> None:
    (example,) = blocks(section(PAGE.read_text(), "In code"), "python")
    done = subprocess.run(
        [sys.executable, "-c", example], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    (payload,) = re.findall(r"\[b'(\{.*\})'\]", done.stdout)
    traceparent = re.fullmatch(
        r'\{"class":"SendMail","args":\["ada@example.com"\],"traceparent":"00-(\w{32})-(\w{16})-\w\w"\}', payload
    )
    assert traceparent is not None
    trace_id, span_id = traceparent.groups()
    spans = dict(re.findall(r'"name": "([^"]+)",(.*?)\n\}', done.stdout, re.S))
    assert f'"span_id": "0x{span_id}"' in spans["mail send"]
    assert f'"parent_id": "0x{span_id}"' in spans["mail process"]
    assert f'"trace_id": "0x{trace_id}"' in spans["mail process"]
