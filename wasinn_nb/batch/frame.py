"""Rows to a pandas DataFrame: always the same columns, order and types, however they ran."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from wasinn_nb.results import PHASES

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FIRST_COLUMNS", "TIMING_COLUMNS", "conform", "to_frame", "without_timings"]

FIRST_COLUMNS = ("input", "exit_code", "error")
#: Seconds per phase of each item's run (see :data:`wasinn_nb.results.PHASES`).
TIMING_COLUMNS = tuple(f"time_{phase}" for phase in PHASES)


def to_frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """A DataFrame of ``rows``: input, exit_code, error, the result's columns, then timings.

    Example:
        >>> frame = to_frame([{"input": "a.jpg", "exit_code": 0, "error": None, "label": "cat"},
        ...                   {"input": "b.jpg", "exit_code": None, "error": "no such file"}])
        >>> list(frame.columns[:4]), frame["exit_code"].tolist()
        (['input', 'exit_code', 'error', 'label'], [0, <NA>])
    """
    import pandas as pd

    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    middle = [c for c in seen if c not in FIRST_COLUMNS and c not in TIMING_COLUMNS]
    timings = [c for c in TIMING_COLUMNS if c in seen]
    columns = [*FIRST_COLUMNS, *middle, *timings]
    data = {c: [row.get(c) for row in rows] for c in columns}
    frame = pd.DataFrame(data, columns=columns)
    frame["input"] = frame["input"].astype(object)
    frame["exit_code"] = frame["exit_code"].astype("Int64")
    frame["error"] = pd.Series([row.get("error") for row in rows], dtype=object)
    for column in middle:  # whole numbers stay whole where some rows have none (error rows)
        values = [v for v in data[column] if v is not None]
        if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            frame[column] = frame[column].astype("Int64")
    return frame


def without_timings(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame without its timing columns: what two runs of one batch must agree on."""
    return frame.drop(columns=[c for c in TIMING_COLUMNS if c in frame.columns])


def conform(frame: pd.DataFrame, like: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with exactly ``like``'s columns and dtypes: missing ones empty, others dropped.

    Example:
        >>> first = to_frame([{"input": "a.jpg", "exit_code": 0, "error": None, "top": 3}])
        >>> failed = to_frame([{"input": "b.jpg", "exit_code": None, "error": "no such file"}])
        >>> conform(failed, first).dtypes.astype(str).to_dict()
        {'input': 'object', 'exit_code': 'Int64', 'error': 'object', 'top': 'Int64'}
        >>> listed = to_frame([{"input": "a", "exit_code": 0, "error": None, "top": [1]}])
        >>> conform(failed, listed).loc[0, "top"] is None
        True
    """
    import pandas as pd

    shaped = frame.reindex(columns=like.columns)
    for column in like.columns.difference(frame.columns):
        if like[column].dtype == object:  # empty as to_frame leaves it: None, not NaN
            shaped[column] = pd.Series([None] * len(shaped), index=shaped.index, dtype=object)
    return shaped.astype(like.dtypes.to_dict())
