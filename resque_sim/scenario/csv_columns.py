"""CSV-backed data (empirical durations, trace arrivals): resolved, read once, checked and cached."""

from __future__ import annotations

import csv
import functools
import math
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import ValidationInfo

from resque_sim.scenario.errors import FieldProblem, show

__all__ = ["check_column", "read_column", "resolve_csv"]


class _UnreadableFile(ValueError):
    """The CSV file itself cannot be read (as opposed to a problem with the column asked for)."""


def read_column(path: Path, column: str, *, numbers: bool) -> npt.NDArray[Any]:
    """One CSV column as a read-only array (floats >= 0 when ``numbers``).

    Cached while the file is unchanged: validation reads it, and then every sampler reads it again.
    """
    try:
        stat = path.stat()
        return _read_column_cached(path, column, numbers, stat.st_mtime_ns, stat.st_size)
    except OSError as error:
        raise _UnreadableFile(f"cannot read {path}: {error.strerror}") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise _UnreadableFile(f"cannot read {path} as CSV: {error}") from None


def check_column(path: Path, column: str, column_field: str, *, numbers: bool) -> None:
    """Read a column during validation, blaming ``csv`` or ``column_field``, whichever needs fixing."""
    try:
        read_column(path, column, numbers=numbers)
    except _UnreadableFile as error:
        raise FieldProblem(str(error), loc=("csv",)) from None
    except ValueError as error:
        raise FieldProblem(str(error), loc=(column_field,)) from None


@functools.lru_cache(maxsize=16)
def _read_column_cached(path: Path, column: str, numbers: bool, _mtime_ns: int, _size: int) -> npt.NDArray[Any]:
    # the modification time and size only take part in the cache key, so an edited file is read again
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if column not in (reader.fieldnames or ()):
            raise ValueError(
                f"{path.name} has no column {show(column)} (columns: {', '.join(reader.fieldnames or ())})"
            )
        cells = [row[column] for row in reader]
    if not cells:
        raise ValueError(f"{path.name} has no rows")
    values = (
        np.array([_csv_number(cell, path, row) for row, cell in enumerate(cells, start=2)])
        if numbers
        else np.array(cells, dtype=object)
    )
    values.flags.writeable = False  # shared through the cache, so nobody may change it
    return values


def _csv_number(cell: str | None, path: Path, row: int) -> float:
    try:
        number = float(cell or "")
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and number >= 0):
        raise ValueError(f"{path.name} row {row}: {show(cell)} is not a non-negative number")
    return number


def resolve_csv(path: Path, info: ValidationInfo) -> Path:
    """Relative CSV paths are relative to the scenario file's folder (``base_dir`` in the context).

    The result is absolute so that a re-validated copy (``with_value``) finds the same file.
    """
    base_dir = Path((info.context or {}).get("base_dir", "."))
    return path if path.is_absolute() else (base_dir / path).absolute()
