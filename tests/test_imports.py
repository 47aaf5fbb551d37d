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
