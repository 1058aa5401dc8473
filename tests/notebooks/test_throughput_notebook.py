"""notebooks/throughput.ipynb: it runs top to bottom from a fresh kernel, and it is committed executed.

The notebook is executed from a copy (the committed file is never written) in a ``python3`` kernel:
ipykernel's own kernelspec, which jupyter_client starts with the interpreter running these tests, so the
kernel sees the same installed packages.  Its working directory is ``notebooks/`` so the relative paths it
uses (the shipped scenarios) resolve as they do for a reader.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "throughput.ipynb"
#: Its charts: throughput vs workers, waits vs load, worker memory over time.
CHARTS = 3


def images(notebook: Any) -> int:
    return sum(
        "image/png" in output.get("data", {})
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )


def errors(notebook: Any) -> list[str]:
    return [
        f"{output.get('ename')}: {output.get('evalue')}"
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    ]


@pytest.mark.slow
def test_the_notebook_executes_top_to_bottom_without_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THROUGHPUT_NOTEBOOK_SIZE", "small")
    committed = hashlib.sha256(NOTEBOOK.read_bytes()).hexdigest()
    copy = tmp_path / NOTEBOOK.name
    shutil.copyfile(NOTEBOOK, copy)
    notebook = nbformat.read(copy, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=240,
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    try:
        client.execute()  # raises CellExecutionError, naming the cell, on the first error
    finally:
        nbformat.write(notebook, tmp_path / "executed.ipynb")  # kept for reading a failure
    assert errors(notebook) == []
    assert images(notebook) == CHARTS, "every chart is drawn"
    assert hashlib.sha256(NOTEBOOK.read_bytes()).hexdigest() == committed, "the committed notebook is untouched"


def test_the_committed_notebook_is_stored_executed_with_its_charts() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    unexecuted = [index for index, cell in enumerate(code) if cell.execution_count is None]
    assert unexecuted == [], f"code cells without outputs (run the notebook before committing): {unexecuted}"
    counts = [cell.execution_count for cell in code]
    assert counts == list(range(1, len(code) + 1)), "executed once, in order, from a fresh kernel"
    assert errors(notebook) == []
    assert images(notebook) == CHARTS


def test_the_committed_notebook_stays_small_enough_to_read_on_a_code_host() -> None:
    assert NOTEBOOK.stat().st_size < 1_500_000
