"""Graph definitions: the YAML shape of Azure IoT Operations data-flow graphs, checked.

A graph has ``operations`` (each an ``operationType`` — source, map, filter, branch,
concatenate or sink — a ``name`` and, for map/filter/branch, a ``module``), ``connections``
(``from: {name, arm}`` → ``to: {name}``; a branch's two arms are ``arm: "True"`` and
``arm: "False"``) and ``moduleConfigurations`` (per operation, its parameters with a
``default`` and ``required``). ``metadata`` and ``moduleRequirements`` are read and kept.

A ``module`` is a built-in operator's name (``softmax``, or ``softmax:1.0.0``) or a path to a
``.wasm``/``.wat`` file, relative to the graph file's folder. Every mistake is one
:class:`GraphError` line naming the operation or connection.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wasinn_nb.errors import SpecError
from wasinn_nb.files import read_file

__all__ = [
    "KINDS",
    "Connection",
    "GraphError",
    "GraphSpec",
    "Operation",
    "load_graph",
    "parse_graph",
    "parse_param",
]

#: The operation types wasinn runs (Azure's accumulate and delay need time windows: not here).
KINDS = ("source", "map", "filter", "branch", "concatenate", "sink")
_WITH_MODULE = ("map", "filter", "branch")
MAX_GRAPH_BYTES = 1 << 20
MAX_PARAM_FILE_BYTES = 16 << 20


class GraphError(SpecError):
    """A graph definition that cannot run: bad YAML, an unknown operator, a wrong connection."""


@dataclass(frozen=True)
class Operation:
    """One node: its type, name, module reference and parameters (values, after defaults)."""

    kind: str
    name: str
    module: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Connection:
    """An edge; ``arm`` is True/False for a branch's arms, None otherwise."""

    source: str
    target: str
    arm: bool | None = None


@dataclass(frozen=True)
class GraphSpec:
    """A checked graph: operations by name (in file order) and connections.

    Example:
        >>> spec = parse_graph('''
        ... operations:
        ...   - {operationType: source, name: in}
        ...   - {operationType: map, name: probs, module: softmax}
        ...   - {operationType: sink, name: out}
        ... connections:
        ...   - {from: {name: in}, to: {name: probs}}
        ...   - {from: {name: probs}, to: {name: out}}
        ... ''')
        >>> spec.source, [op.name for op in spec.order()]
        ('in', ['in', 'probs', 'out'])
    """

    name: str
    operations: Mapping[str, Operation]
    connections: tuple[Connection, ...]
    folder: Path | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def source(self) -> str:
        """The name of the one source operation."""
        return next(op.name for op in self.operations.values() if op.kind == "source")

    def after(self, name: str, arm: bool | None = None) -> list[str]:
        """The operations ``name`` feeds (only the ``arm`` ones for a branch)."""
        return [c.target for c in self.connections if c.source == name and c.arm == arm]

    def order(self) -> list[Operation]:
        """Operations in an order where each comes after everything that feeds it."""
        feeds = {name: [c.source for c in self.connections if c.target == name]
                 for name in self.operations}  # fmt: skip
        done: list[str] = []
        while len(done) < len(self.operations):
            ready = [n for n in self.operations if n not in done and set(feeds[n]) <= set(done)]
            if not ready:
                cycle = sorted(n for n in self.operations if n not in done)
                raise GraphError(f"the connections make a cycle through {', '.join(cycle)}")
            done.append(ready[0])
        return [self.operations[n] for n in done]

    def with_params(self, overrides: Mapping[str, Mapping[str, str]]) -> GraphSpec:
        """A copy with parameter values replaced: ``{operation: {key: value}}``."""
        operations = dict(self.operations)
        for name, values in overrides.items():
            if name not in operations:
                raise GraphError(f"--param {name}:…: no operation named {name!r} "
                                 f"(operations: {', '.join(operations)})")  # fmt: skip
            op = operations[name]
            operations[name] = Operation(op.kind, op.name, op.module, {**op.params, **values})
        return GraphSpec(self.name, operations, self.connections, self.folder, self.metadata)


def parse_param(text: str) -> tuple[str, str, str]:
    """``OPERATION:KEY=VALUE`` (from ``--param``) as its three parts.

    Example:
        >>> parse_param("top:k=3")
        ('top', 'k', '3')
    """
    head, sep, value = text.partition("=")
    operation, colon, key = head.rpartition(":")
    if not sep or not colon or not operation or not key:
        raise GraphError(f"bad --param {text!r}: expected OPERATION:KEY=VALUE")
    return operation, key, value


def load_graph(path: str | os.PathLike[str]) -> GraphSpec:
    """Read and check the graph definition at ``path`` (modules resolve next to it)."""
    data = read_file(path, limit=MAX_GRAPH_BYTES, what="graph")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise GraphError(f"{path}: not UTF-8 text") from None
    return parse_graph(text, folder=Path(path).resolve().parent, name=Path(path).stem)


def parse_graph(text: str, *, folder: Path | None = None, name: str = "graph") -> GraphSpec:
    """Parse and check a graph definition given as YAML (or JSON) text."""
    import yaml

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise GraphError(f"bad YAML{where}: {problem}") from None
    if not isinstance(doc, dict):
        raise GraphError("a graph definition is a mapping with operations and connections")
    unknown = set(doc) - {"metadata", "moduleRequirements", "moduleConfigurations",
                          "operations", "connections", "schemas"}  # fmt: skip
    if unknown:
        expected = "metadata, moduleRequirements, moduleConfigurations, operations, connections"
        raise GraphError(f"unknown top-level key {sorted(unknown)[0]!r} (expected {expected})")
    metadata = doc.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise GraphError("metadata must be a mapping")
    params = _configurations(doc.get("moduleConfigurations") or [], folder)
    operations = _operations(_list(doc, "operations"), params)
    for op_name in params:
        if op_name not in operations:
            raise GraphError(f"moduleConfigurations: no operation named {op_name!r}")
    connections = tuple(_connection(c, i, operations)
                        for i, c in enumerate(_list(doc, "connections")))  # fmt: skip
    spec = GraphSpec(str(metadata.get("name") or name), operations, connections, folder,
                     metadata)  # fmt: skip
    _check_wiring(spec)
    return spec


def _list(doc: dict[str, Any], key: str) -> list[Any]:
    value = doc.get(key)
    if not isinstance(value, list) or not value:
        raise GraphError(f"{key} must be a non-empty list")
    return value


def _operations(items: list[Any], params: dict[str, dict[str, str]]) -> dict[str, Operation]:
    operations: dict[str, Operation] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict) or "name" not in item or "operationType" not in item:
            raise GraphError(f"operations[{index}]: needs operationType and name")
        name, kind, module = str(item["name"]), str(item["operationType"]), item.get("module")
        if kind not in KINDS:
            raise GraphError(f"operation {name!r}: operationType {kind!r} is not supported "
                             f"(supported: {', '.join(KINDS)})")  # fmt: skip
        if name in operations:
            raise GraphError(f"operation {name!r} is defined twice")
        if kind in _WITH_MODULE and not module:
            raise GraphError(f"operation {name!r}: a {kind} needs a module")
        if kind not in _WITH_MODULE and module:
            raise GraphError(f"operation {name!r}: a {kind} takes no module")
        operations[name] = Operation(kind, name, str(module) if module else None,
                                     params.get(name, {}))  # fmt: skip
    for kind in ("source", "sink"):
        count = sum(op.kind == kind for op in operations.values())
        if kind == "source" and count != 1:
            raise GraphError(f"a graph needs exactly one source operation, this one has {count}")
        if kind == "sink" and count == 0:
            raise GraphError("a graph needs at least one sink operation")
    return operations


def _configurations(items: Any, folder: Path | None) -> dict[str, dict[str, str]]:
    """``moduleConfigurations`` as ``{operation: {parameter: value}}`` (defaults only)."""
    if not isinstance(items, list):
        raise GraphError("moduleConfigurations must be a list")
    result: dict[str, dict[str, str]] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict) or "name" not in item:
            raise GraphError(f"moduleConfigurations[{index}]: needs a name")
        op_name, declared = str(item["name"]), item.get("parameters") or {}
        if not isinstance(declared, dict):
            raise GraphError(f"moduleConfigurations {op_name!r}: parameters must be a mapping")
        values: dict[str, str] = {}
        for key, spec in declared.items():
            spec = spec if isinstance(spec, dict) else {"default": spec}
            param = str(spec.get("name") or key)
            if "default" in spec and spec["default"] is not None:
                values[param] = param_value(_text(spec["default"]), folder)
            elif spec.get("required"):
                values[param] = _REQUIRED
        result[op_name] = values
    return result


#: Marks a required parameter that has no value yet (checked when the graph is instantiated).
_REQUIRED = "\0required"


def missing_params(op: Operation) -> list[str]:
    """The required parameters of ``op`` that were given no value."""
    return [key for key, value in op.params.items() if value == _REQUIRED]


def param_value(text: str, folder: Path | None) -> str:
    """A parameter value: ``@PATH`` is the file's text (relative to the graph's folder).

    Example:
        >>> param_value("0.5", None), param_value("@@literal", None)
        ('0.5', '@literal')
    """
    if text.startswith("@@"):
        return text[1:]
    if not text.startswith("@"):
        return text
    path = Path(text[1:]).expanduser()
    if not path.is_absolute() and folder is not None:
        path = folder / path
    data = read_file(path, limit=MAX_PARAM_FILE_BYTES, what="parameter file")
    return data.decode("utf-8", errors="replace")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _connection(item: Any, index: int, operations: Mapping[str, Operation]) -> Connection:
    if (
        not isinstance(item, dict)
        or not isinstance(item.get("from"), dict)
        or not isinstance(item.get("to"), dict)
    ):
        raise GraphError(f"connections[{index}]: needs from: {{name: …}} and to: {{name: …}}")
    source, target = str(item["from"].get("name")), str(item["to"].get("name"))
    where = f"connection {source} -> {target}"
    for end in (source, target):
        if end not in operations:
            raise GraphError(f"{where}: no operation named {end!r}")
    if operations[source].kind == "sink":
        raise GraphError(f"{where}: a sink has no output")
    if operations[target].kind == "source":
        raise GraphError(f"{where}: a source has no input")
    arm = _arm(item["from"].get("arm"), where)
    if (arm is not None) != (operations[source].kind == "branch"):
        raise GraphError(f"{where}: " + ("a branch's connections need arm: True or False"
                                         if arm is None else "only a branch has arms"))  # fmt: skip
    return Connection(source, target, arm)


def _arm(value: Any, where: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in ("true", "false"):
        raise GraphError(f"{where}: arm must be True or False, got {value!r}")
    return text == "true"


def _check_wiring(spec: GraphSpec) -> None:
    """Every operation fed and feeding; no cycles; nothing unreachable from the source."""
    targets = {c.target for c in spec.connections}
    for op in spec.operations.values():
        if op.kind != "source" and op.name not in targets:
            raise GraphError(f"operation {op.name!r} has no input connection")
        if op.kind != "sink" and not any(c.source == op.name for c in spec.connections):
            raise GraphError(f"operation {op.name!r} has no output connection")
    seen, todo = set(), [spec.source]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += [c.target for c in spec.connections if c.source == name]
    spec.order()  # raises on a cycle
    unreachable = [n for n in spec.operations if n not in seen]
    if unreachable:
        raise GraphError(f"operation {unreachable[0]!r} cannot be reached from the source")
