"""The layout of PRODUCT.md and STYLE.md, held to by reading the code.

Every import counts, at module level or inside a function: an import that runs
late is still a dependency. `from pkg import name` depends on the submodule
pkg.name when there is one, and on pkg otherwise.
"""

import ast
import configparser
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOP_LEVEL_MODULES = {"marketplace", "tasks", "models"}
# Files of packaging tools that may also sit at the top.
SETUP_FILES = {"setup.py"}
PACKAGES = ("job_runtime", "shop", "shop_web")
# Folders of the checkout that hold Python but are not shipped.
UNSHIPPED = {"tests", "bench"}
THE_SHOP = {"shop", "shop_web", "models", "tasks", "marketplace"}
WEB_LAYER = ("shop_web", "marketplace")

# The shop's layers, lowest first: a module imports only modules of its own layer or
# below. The job runtime stands beside them (its own test). The command line is the
# shop's operator side: it may run the jobs' module (init loads every job's tables)
# but never builds the web app.
LAYERS = ("settings", "models", "domain", "tasks", "web")
SETTINGS_MODULES = {"shop.config", "shop.errors"}
# models.py, and the prepared statements of its base class, which import nothing of the shop.
MODELS_MODULES = {"models", "shop.prepared"}
TASKS_LAYER = {"tasks", "shop.cli"}


# ---------------------------------------------------------------------------
# Reading the code
# ---------------------------------------------------------------------------


def module_paths():
    """Every module of the shop and the job runtime: dotted name -> file."""
    paths = {name: ROOT / f"{name}.py" for name in TOP_LEVEL_MODULES}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "tests" in parts:
                continue  # the runtime's own tests are not shipped, and read their set-up from the environment
            if parts[-1] == "__init__":
                parts = parts[:-1]
            paths[".".join(parts)] = path
    return paths


MODULES = module_paths()


def is_package(name):
    return MODULES[name].name == "__init__.py"


@cache
def tree_of(name):
    return ast.parse(MODULES[name].read_text(), str(MODULES[name]))


def absolute(name, node):
    """The module that an ImportFrom names, relative imports resolved."""
    if not node.level:
        return node.module
    package = name.split(".") if is_package(name) else name.split(".")[:-1]
    base = package[:len(package) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def project_module(dotted):
    """The longest prefix of `dotted` that is a module of the project, or None."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in MODULES:
            return candidate
    return None


@cache
def imports_of(name):
    """(imported name, line, names) for every import of module `name`: `import a.b` gives
    ("a.b", line, ()), `from a import b, c` gives ("a", line, ("b", "c")); literal
    importlib.import_module("a.b") calls count as `import a.b`."""
    found = []
    for node in ast.walk(tree_of(name)):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno, ()) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.append((absolute(name, node), node.lineno, tuple(alias.name for alias in node.names)))
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and ast.unparse(node.func) in ("importlib.import_module", "import_module", "__import__")):
            found.append((node.args[0].value, node.lineno, ()))
    return found


@cache
def dependencies(name):
    """{project module: first line} that module `name` imports."""
    found = {}
    for imported, line, names in imports_of(name):
        targets = []
        for member in names:
            submodule = f"{imported}.{member}"
            targets.append(submodule if submodule in MODULES else imported)
        if not names:
            targets.append(imported)
        for target in targets:
            module = project_module(target)
            if module is not None and module != name:
                found.setdefault(module, line)
    return found


def top_names(name):
    """The first part of every name that module `name` imports (`bottle`, `shop`, ...)."""
    return {imported.split(".")[0] for imported, _, _ in imports_of(name) if imported}


def layer(name):
    if name in SETTINGS_MODULES:
        return "settings"
    if name in MODELS_MODULES:
        return "models"
    if name in TASKS_LAYER:
        return "tasks"
    if name.split(".")[0] in WEB_LAYER:
        return "web"
    return "domain"


def in_job_runtime(name):
    return name.split(".")[0] == "job_runtime"


def part(*names):
    """"job runtime" when every one of `names` is in it, else "shop"."""
    return "job runtime" if all(in_job_runtime(name) for name in names) else "shop"


def where(name, line):
    return f"{MODULES[name].relative_to(ROOT)}:{line}"


# ---------------------------------------------------------------------------
# The top level and the wheel
# ---------------------------------------------------------------------------


def test_the_top_level_holds_only_the_three_modules():
    modules = {path.stem for path in ROOT.glob("*.py")} - {Path(name).stem for name in SETUP_FILES}
    assert modules == TOP_LEVEL_MODULES
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")}
    assert packages - UNSHIPPED == set(PACKAGES)


def setup_options():
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    return parser


def listed(text):
    return sorted(line.strip() for line in text.splitlines() if line.strip())


def test_every_module_is_packaged():
    parser = setup_options()
    options = parser["options"]
    assert listed(options["py_modules"]) == sorted(TOP_LEVEL_MODULES)
    folders = sorted(name for name in MODULES if is_package(name))
    assert listed(options["packages"]) == sorted(folders + ["shop_web.views"])
    # A module in a folder without __init__.py would be left out of the wheel.
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            assert (path.parent / "__init__.py").exists(), f"{path.relative_to(ROOT)} is in no package"


def test_the_wheel_carries_every_template_and_static_file():
    parser = setup_options()
    mapping = dict(line.split("=") for line in listed(parser["options"]["package_dir"]))
    assert {key.strip(): value.strip() for key, value in mapping.items()} == {"shop_web.views": "views"}
    views = ROOT / "views"
    # setuptools globs the patterns from the package's folder, as Path.glob does.
    shipped = {path for pattern in listed(parser["options.package_data"]["shop_web.views"])
               for path in views.glob(pattern) if path.is_file()}
    files = {path for path in views.rglob("*") if path.is_file() and "__pycache__" not in path.parts}
    assert files
    unshipped = sorted(str(path.relative_to(ROOT)) for path in files - shipped)
    assert unshipped == [], f"views/ files the wheel leaves out: {unshipped}"


# ---------------------------------------------------------------------------
# Who imports what
# ---------------------------------------------------------------------------


def test_the_job_runtime_imports_nothing_of_the_shop():
    found = [f"{where(name, line)} imports {imported}"
             for name in MODULES if in_job_runtime(name)
             for imported, line, _ in imports_of(name) if imported.split(".")[0] in THE_SHOP]
    assert not found, "\n".join(found)


def test_only_the_web_layer_imports_bottle():
    found = [name for name in MODULES if layer(name) != "web" and "bottle" in top_names(name)]
    assert not found, "\n".join(found)


def test_imports_run_from_settings_to_models_to_domain_to_tasks_to_web():
    found = []
    for name in MODULES:
        if in_job_runtime(name):
            continue
        for imported, line in dependencies(name).items():
            if not in_job_runtime(imported) and LAYERS.index(layer(imported)) > LAYERS.index(layer(name)):
                found.append(f"{where(name, line)}: {name} ({layer(name)}) imports {imported} ({layer(imported)})")
    assert not found, "\n".join(found)


@pytest.mark.parametrize("checked", ["job runtime", "shop"])
def test_no_two_modules_import_each_other(checked):
    loops = sorted({tuple(sorted((name, other))) for name in MODULES for other in dependencies(name)
                    if name in dependencies(other) and part(name, other) == checked})
    described = [f"{a} ({where(a, dependencies(a)[b])}) <-> {b} ({where(b, dependencies(b)[a])})" for a, b in loops]
    assert not described, "\n".join(described)


def is_private(member):
    return member.startswith("_") and not member.startswith("__")


def module_aliases(name):
    """{name in module `name`'s code: the project module it stands for}."""
    aliases = {}
    for node in ast.walk(tree_of(name)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname and alias.name in MODULES:
                    aliases[alias.asname] = alias.name
                elif not alias.asname:
                    # `import a.b` binds `a`, and the code then says `a.b`.
                    for end in range(1, alias.name.count(".") + 2):
                        prefix = ".".join(alias.name.split(".")[:end])
                        if prefix in MODULES:
                            aliases[prefix] = prefix
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                submodule = f"{absolute(name, node)}.{alias.name}"
                if submodule in MODULES:
                    aliases[alias.asname or alias.name] = submodule
    return aliases


def private_names_used(name):
    """(line, module, private name) for each underscore name of another project module that
    module `name` imports (`from a import _b`) or reaches through a module (`a._b`)."""
    found = []
    for imported, line, names in imports_of(name):
        module = project_module(imported)
        if module is None or module == name:
            continue
        found.extend((line, imported, member) for member in names
                     if is_private(member) and f"{imported}.{member}" not in MODULES)
        found.extend((line, imported, piece) for piece in imported.split(".") if is_private(piece))
    aliases = module_aliases(name)
    for node in ast.walk(tree_of(name)):
        if isinstance(node, ast.Attribute) and is_private(node.attr):
            module = aliases.get(ast.unparse(node.value))
            if module is not None and module != name:
                found.append((node.lineno, module, node.attr))
    return found


@pytest.mark.parametrize("checked", ["job runtime", "shop"])
def test_no_module_uses_an_underscore_name_of_another(checked):
    found = [f"{where(name, line)}: {name} uses {member} of {module}"
             for name in MODULES if part(name) == checked
             for line, module, member in sorted(set(private_names_used(name)))]
    assert not found, "\n".join(found)


# ---------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------


def reads_the_environment(tree):
    """Lines where os.environ is read one variable at a time (passing the whole
    environment on to a child process reads no setting)."""

    def is_environ(node):
        return ast.unparse(node) in ("os.environ", "environ")

    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and is_environ(node.value):
            lines.append(node.lineno)
        elif isinstance(node, ast.Call) and ast.unparse(node.func) in (
                "os.getenv", "getenv", "os.environ.get", "environ.get", "os.environ.setdefault"):
            lines.append(node.lineno)
        elif isinstance(node, ast.Compare) and any(is_environ(c) for c in node.comparators):
            lines.append(node.lineno)
    return lines


def test_settings_are_read_from_the_environment_only_in_config():
    found = [where(name, line) for name in MODULES if name != "shop.config"
             for line in reads_the_environment(tree_of(name))]
    assert not found, "\n".join(found)
