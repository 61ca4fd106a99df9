"""The map every service shares: imports point downwards inside a service (no cycles), never
into another service, and every service has the same skeleton. Read from the source with ast,
so a function-level import counts as much as one at the top."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = {
    "identity": ROOT / "services/identity/identity",
    "applicant": ROOT / "services/applicant/applicant",
    "kindergarten": ROOT / "services/kindergarten/kindergarten",
    "sms_notify": ROOT / "services/sms-notify/sms_notify",
    "gateway": ROOT / "gateway/gateway",
}
SHARED = ("edu_common", ROOT / "libs/edu-common/edu_common")
# adapters/ too, where a service talks to the outside world itself (kindergarten's only outside
# party, the population registry, is the shared library's adapter).
SKELETON = (
    "domain",
    "usecases",
    "api",
    "schemas",
    "store",
    "events",
    "settings",
    "deps",
    "app",
    "worker",
)


def _module_name(package: str, root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join([package, *parts])


def _imports(package: str, root: Path) -> dict[str, list[tuple[str, int, bool]]]:
    """module -> [(imported module, line, inside a function)] for every import in it."""
    graph: dict[str, list[tuple[str, int, bool]]] = {}
    for path in sorted(root.rglob("*.py")):
        name = _module_name(package, root, path)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        found = []
        functions = [
            n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        ]
        nested = {id(n) for f in functions for n in ast.walk(f) if n is not f}
        for node in ast.walk(tree):
            inner = id(node) in nested
            if isinstance(node, ast.Import):
                found += [(a.name, node.lineno, inner) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: resolve against this module's package
                    base = name.split(".")
                    if path.name != "__init__.py":
                        base = base[:-1]
                    base = base[: len(base) - node.level + 1]
                    target = ".".join([*base, node.module] if node.module else base)
                else:
                    target = node.module or ""
                found.append((target, node.lineno, inner))
                # ``from pkg import module`` imports the module too.
                found += [(f"{target}.{a.name}", node.lineno, inner) for a in node.names]
        graph[name] = found
    return graph


def _internal_edges(package: str, graph) -> dict[str, set[str]]:
    modules = set(graph)
    return {
        m: {t for t, _, _ in targets if t in modules and t != m and t.startswith(package)}
        for m, targets in graph.items()
    }


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, or None. Iterative DFS with colours."""
    colour = dict.fromkeys(edges, 0)
    for start in sorted(edges):
        if colour[start]:
            continue
        stack = [(start, iter(sorted(edges[start])))]
        path = [start]
        colour[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                colour[node] = 2
                stack.pop()
                path.pop()
            elif colour[child] == 1:
                return [*path[path.index(child) :], child]
            elif colour[child] == 0:
                colour[child] = 1
                stack.append((child, iter(sorted(edges[child]))))
                path.append(child)
    return None


ALL_PACKAGES = {**SERVICES, SHARED[0]: SHARED[1]}


@pytest.mark.parametrize("package", sorted(ALL_PACKAGES))
def test_no_import_cycle_inside_a_package(package):
    graph = _imports(package, ALL_PACKAGES[package])
    cycle = _cycle(_internal_edges(package, graph))
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


@pytest.mark.parametrize("package", sorted(ALL_PACKAGES))
def test_no_import_inside_a_function(package):
    graph = _imports(package, ALL_PACKAGES[package])
    own = set(ALL_PACKAGES)
    hidden = [
        f"{m}:{line} imports {t}"
        for m, targets in graph.items()
        for t, line, inner in targets
        if inner and t.split(".")[0] in own
    ]
    assert not hidden, "imports hidden in functions:\n" + "\n".join(hidden)


@pytest.mark.parametrize("package", sorted(ALL_PACKAGES))
def test_no_package_imports_a_service_but_its_own(package):
    graph = _imports(package, ALL_PACKAGES[package])
    others = set(SERVICES) - {package}
    crossing = [
        f"{m}:{line} imports {t}"
        for m, targets in graph.items()
        for t, line, _ in targets
        if t.split(".")[0] in others
    ]
    assert not crossing, "\n".join(crossing)


@pytest.mark.parametrize("package", sorted(set(SERVICES) - {"gateway"}))
def test_every_service_has_the_same_skeleton(package):
    root = SERVICES[package]
    missing = [
        part
        for part in SKELETON
        if not (root / part).is_dir() and not (root / f"{part}.py").is_file()
    ]
    assert not missing, f"{package} lacks {missing}"


def test_the_cycle_finder_finds_a_cycle():
    # The tests above are only as good as this: a graph with a cycle must be caught.
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
