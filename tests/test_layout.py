"""The design rules of PRODUCT.md and STYLE.md that a test can hold the code to."""

import ast
import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEB_LAYER = {"marketplace", "web"}
MODULES = sorted(p.stem for p in ROOT.glob("*.py") if p.stem != "setup")


def imports_of(module):
    tree = ast.parse((ROOT / f"{module}.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_every_module_is_packaged():
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    listed = sorted(line.strip() for line in parser["options"]["py_modules"].split() if line.strip())
    assert listed == MODULES


def test_only_the_web_layer_imports_bottle():
    for module in MODULES:
        if module in WEB_LAYER or module.startswith("routes_"):
            continue
        assert "bottle" not in imports_of(module), f"{module} imports bottle"


def test_nothing_below_the_web_layer_imports_it():
    web = WEB_LAYER | {m for m in MODULES if m.startswith("routes_")}
    for module in MODULES:
        if module in web or module == "cli":
            continue
        assert not (imports_of(module) & web), f"{module} imports the web layer: {imports_of(module) & web}"


def test_settings_are_read_only_in_config():
    for module in MODULES:
        if module == "config":
            continue
        source = (ROOT / f"{module}.py").read_text()
        for reading in ("os.environ[", "os.environ.get(", "os.getenv("):
            assert reading not in source, f"{module} reads a setting from the environment"
