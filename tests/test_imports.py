"""helpdesk/ has no import cycle: two modules that import each other (even inside a function) work
only in one import order, and hide which of them owns what (issue 13, item 6)."""

import ast
from pathlib import Path

import helpdesk

PACKAGE = Path(helpdesk.__file__).parent


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _imported(
    node: ast.Import | ast.ImportFrom, module: str, is_package: bool, modules: set[str]
) -> set[str]:
    """The package's modules an import statement loads: `from a import b` loads a.b when that is a
    module, else a (the parent packages run too, but every module would then depend on them)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names} & modules
    base = node.module or ""
    if node.level:
        parent = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
        base = ".".join([*parent, base] if base else parent)
    names = {f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names}
    return names & modules


def import_graph() -> dict[str, set[str]]:
    """Each module of the package and the package's modules it imports, anywhere in its body."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        imports = [
            node
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Import | ast.ImportFrom)
        ]
        graph[module] = set().union(
            *(_imported(node, module, is_package, set(modules)) for node in imports)
        ) - {module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One path round each cycle found by a depth-first walk (empty when the graph is acyclic)."""
    found, state, path = [], dict.fromkeys(graph, "new"), []

    def visit(module: str) -> None:
        state[module] = "open"
        path.append(module)
        for target in sorted(graph[module]):
            if state[target] == "open":
                found.append([*path[path.index(target) :], target])
            elif state[target] == "new":
                visit(target)
        path.pop()
        state[module] = "done"

    for module in sorted(graph):
        if state[module] == "new":
            visit(module)
    return found


def test_the_package_has_no_import_cycle():
    assert cycles(import_graph()) == []


def test_the_check_sees_a_cycle_through_an_import_inside_a_function():
    graph = import_graph()
    assert "helpdesk.api" in graph["helpdesk"], "create_app imports the API inside the function"
    graph["helpdesk.services.sql"].add("helpdesk.services.ticket_queries")
    found = cycles(graph)  # one path or more, as the walk meets them: each through the added import
    assert found and all(
        {"helpdesk.services.sql", "helpdesk.services.ticket_queries"} <= set(c) for c in found
    )


# NamedTuple's documented methods carry a leading underscore only to stay clear of field names.
PUBLIC_UNDERSCORED = {"_replace", "_asdict", "_fields", "_make"}


def private_attributes(source: str) -> list[tuple[int, str]]:
    """Each `obj._name` in the source, other than self's and cls's, with its line."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Attribute) or not node.attr.startswith("_"):
            continue
        if node.attr.startswith("__") or node.attr in PUBLIC_UNDERSCORED:
            continue
        if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
            continue
        found.append((node.lineno, ast.unparse(node)))
    return found


def test_only_the_compat_module_touches_private_attributes():
    """What must reach into a library's private parts goes in helpdesk/compat.py, where its tests
    (tests/test_compat.py) fail loudly when the library changes."""
    outside = [
        f"{path.relative_to(PACKAGE.parent)}:{line} {text}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "compat.py"
        for line, text in private_attributes(path.read_text())
    ]
    assert outside == []
    assert private_attributes((PACKAGE / "compat.py").read_text()), "the check sees compat's own uses"


def test_the_private_attribute_check_sees_a_library_s_private_part():
    source = "def f(conn, row):\n    self._ok = row._replace(a=1)\n    return conn._execute('x')\n"
    assert private_attributes(source) == [(3, "conn._execute")]
