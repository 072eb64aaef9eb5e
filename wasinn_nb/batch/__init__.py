"""Batch inference: one guest over many inputs, here, on a local process pool, or on Dask.

pandas (and dask.distributed, pyarrow) are imported only when a batch runs.

Example:
    >>> from wasinn_nb.batch import map_guest
    >>> guest = '(module (memory (export "memory") 1) (func (export "_start")))'
    >>> map_guest(guest, [__file__], workers=1, progress=False)["exit_code"].tolist()
    [0]
"""

from wasinn_nb.batch.api import map_guest
from wasinn_nb.batch.frame import TIMING_COLUMNS, to_frame, without_timings
from wasinn_nb.batch.inputs import resolve_inputs
from wasinn_nb.batch.job import INPUT, INPUT_DIR, Job
from wasinn_nb.batch.parse import parse_top_k, segment_shares
from wasinn_nb.batch.pool import shutdown_pools
from wasinn_nb.batch.store import ResultsFile
from wasinn_nb.batch.variants import make_variants

__all__ = [
    "INPUT",
    "INPUT_DIR",
    "TIMING_COLUMNS",
    "Job",
    "ResultsFile",
    "make_variants",
    "map_guest",
    "parse_top_k",
    "resolve_inputs",
    "segment_shares",
    "shutdown_pools",
    "to_frame",
    "without_timings",
]
