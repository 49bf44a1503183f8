"""The web layer's shape: one module per audience, none importing another, none importing the consumer."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "shop_web"

# What two audiences share: the request helpers, and the product-file response that
# sellers and moderators both send.
SHARED = {"common", "product_files"}

# The consumer process's own modules: a web process records and rings jobs, it never runs them.
CONSUMER_SIDE = {"job_runtime.consumer", "job_runtime.runner"}


def imported_modules(path):
    """Every module `path` imports, at module level or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def web_modules():
    return sorted(path for path in WEB.glob("*.py") if path.stem != "__init__")


def test_no_audience_module_imports_another():
    for path in web_modules():
        others = {name.split(".")[1] for name in imported_modules(path)
                  if name.startswith("shop_web.") and name.count(".") == 1}
        assert others <= SHARED, f"shop_web/{path.name} imports {sorted(others - SHARED)}"


def test_the_web_layer_never_imports_the_consumer():
    for path in web_modules():
        found = imported_modules(path) & CONSUMER_SIDE
        assert not found, f"shop_web/{path.name} imports {sorted(found)}"


def test_every_web_module_stays_short():
    for path in web_modules():
        lines = len(path.read_text().splitlines())
        assert lines <= 600, f"shop_web/{path.name} has {lines} lines; split it by audience"
