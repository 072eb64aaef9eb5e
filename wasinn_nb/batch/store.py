"""The results file: rows so far, rewritten atomically as a batch goes, read back to resume.

Parquet (``.parquet``, ``.pq``) or CSV (``.csv``). Cells holding lists or dicts (a top-K, class
shares) are stored as JSON text in a column named ``NAME:json``, so both formats give back the
same rows.
"""

from __future__ import annotations

import io
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from wasinn_nb.batch.frame import to_frame
from wasinn_nb.batch.job import Row
from wasinn_nb.errors import SpecError, TensorFileError
from wasinn_nb.files import atomic_write

__all__ = ["FORMATS", "ResultsFile"]

FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}
_JSON = ":json"


class ResultsFile:
    """Rows of a batch in a Parquet or CSV file.

    Example:
        >>> ResultsFile("results.xlsx")
        Traceback (most recent call last):
        ...
        wasinn_nb.errors.SpecError: results file results.xlsx: use .parquet, .pq or .csv
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        kind = FORMATS.get(self.path.suffix.lower())
        if kind is None:
            raise SpecError(f"results file {path}: use {', '.join(FORMATS)}".replace(", .csv",
                            " or .csv"))  # fmt: skip
        self.kind = kind

    def load(self) -> list[Row]:
        """The rows in the file (none if it does not exist yet)."""
        import pandas as pd

        if not self.path.exists():
            return []
        try:
            if self.kind == "parquet":
                frame = pd.read_parquet(self.path)
            else:
                frame = pd.read_csv(self.path, keep_default_na=False, na_values=[""],
                                    dtype_backend="numpy_nullable")  # fmt: skip
        except Exception as error:  # pyarrow and the CSV parser raise their own types
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise TensorFileError(f"cannot read results file {self.path}: {reason}") from None
        if "input" not in frame.columns:
            raise TensorFileError(f"results file {self.path} has no 'input' column")
        return [_decode(record) for record in frame.to_dict("records")]

    def save(self, rows: Sequence[Row]) -> None:
        """Replace the file with ``rows``, atomically (never a half-written file)."""
        frame = to_frame([_encode(row) for row in rows])
        if self.kind == "parquet":
            buffer = io.BytesIO()
            frame.to_parquet(buffer, index=False)
            data = buffer.getvalue()
        else:
            data = frame.to_csv(index=False).encode()
        with atomic_write(self.path) as handle:
            handle.write(data)


def _encode(row: Row) -> Row:
    return {f"{k}{_JSON}" if isinstance(v, (list, dict, tuple)) else k:
            json.dumps(v) if isinstance(v, (list, dict, tuple)) else v
            for k, v in row.items()}  # fmt: skip


def _missing(value: Any) -> bool:
    """Whether a scalar cell is empty (None, NaN or pandas' NA)."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return type(value).__name__ == "NAType"


def _decode(record: dict[str, Any]) -> Row:
    row: Row = {}
    for key, value in record.items():
        missing = _missing(value)
        if key.endswith(_JSON):
            if not missing:
                row[key.removesuffix(_JSON)] = json.loads(value)
        elif key == "exit_code":
            row[key] = None if missing else int(value)
        elif not missing:
            row[key] = value.item() if hasattr(value, "item") else value
        elif key == "error":
            row[key] = None
    return row
