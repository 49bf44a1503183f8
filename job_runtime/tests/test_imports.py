"""The job runtime's imports, every one of them (inside functions too): it imports
nothing of the shop, no two of its modules import each other, the web side's
modules do not reach the consumer, and no module takes an underscore name of another."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent
SHOP = {"shop", "shop_web", "models", "tasks", "marketplace"}


def _modules():
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = ast.parse(path.read_text())
    return found


MODULES = _modules()


def _imports(tree):
    """(imported name, names taken from it) for every import statement in the tree."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, ()
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "the runtime's imports are absolute"
            yield node.module, tuple(alias.name for alias in node.names)


def _graph():
    graph = {name: set() for name in MODULES}
    for name, tree in MODULES.items():
        for module, names in _imports(tree):
            for target in (module, *(f"{module}.{n}" for n in names)):
                if target in MODULES and target not in (name, "job_runtime"):
                    graph[name].add(target)
    return graph


def _reachable(graph, start):
    seen, todo = set(), [start]
    while todo:
        for nxt in graph[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_the_runtime_imports_nothing_of_the_shop():
    for name, tree in MODULES.items():
        for module, _ in _imports(tree):
            assert module.split(".")[0] not in SHOP, f"{name} imports {module}"


def test_no_two_runtime_modules_import_each_other_even_indirectly():
    graph = _graph()
    for name in graph:
        assert name not in _reachable(graph, name), f"{name} imports itself through others"


def test_no_module_takes_an_underscore_name_of_another():
    for name, tree in MODULES.items():
        for module, names in _imports(tree):
            private = [n for n in names if n.startswith("_")]
            assert not private, f"{name} imports {private} from {module}"


def test_the_web_side_never_loads_the_consumer():
    graph = _graph()
    for web_side in ("job_runtime", "job_runtime.stats", "job_runtime.workers", "job_runtime.cli",
                     "job_runtime.monitoring.dashboard", "job_runtime.monitoring.prometheus",
                     "job_runtime.monitoring.alerts"):
        assert "job_runtime.consumer" not in _reachable(graph, web_side), web_side
