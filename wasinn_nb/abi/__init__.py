"""The guest-facing side: the wasi-nn ABI table, guest memory, the host, WASI clocks, limits.

Nothing here knows about IPython, the CLI or how results are shown; guest mistakes become
errno values, never exceptions.
"""

from wasinn_nb.abi.host import Models, WasiNnHost, errno_for
from wasinn_nb.abi.limits import Limits, format_size, parse_size
from wasinn_nb.abi.memory import GuestMemory
from wasinn_nb.abi.wasi import define_clocks

__all__ = [
    "GuestMemory",
    "Limits",
    "Models",
    "WasiNnHost",
    "define_clocks",
    "errno_for",
    "format_size",
    "parse_size",
]
