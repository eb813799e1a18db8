"""The package's layout rules (ARCHITECTURE.md): data flows one way between rooms, command-line code stays in
sr_tf/cli, modules stay small."""

import ast
import os

import pytest
from helpers import REPO

PACKAGE = os.path.join(REPO, "sr_tf")

# Rooms from the bottom up; a module may import its own room and lower ones only. Rooms on one level (models and
# data; losses and deploy; metrics and sampling) do not import each other.
LEVELS = [
    ["errors", "ops", "atomic", "progress"],
    ["layers", "weights_io", "specs", "outputs", "precision"],
    ["models", "data"],
    ["losses", "deploy"],
    ["metrics", "sampling"],
    ["inference", "plot"],
    ["train"],
    ["cli"],
]
# sr_tf/resolve.py and sr_tf/export.py are the shims behind `python -m sr_tf.resolve` / `python -m sr_tf.export`
ALIASES = {"resolve": "cli", "export": "cli"}
LEVEL = {room: i for i, rooms in enumerate(LEVELS) for room in rooms}
MAX_LINES = 350


def _modules():
    for root, _, files in os.walk(PACKAGE):
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(root, name)
                yield path, os.path.relpath(path, REPO)[:-3].replace(os.sep, ".").removesuffix(".__init__")


def _imports(path, module):
    """Every module named by an import statement in the file (at any depth), absolute."""
    tree = ast.parse(open(path, encoding="utf8").read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _room(module):
    parts = module.split(".")
    room = parts[1] if len(parts) > 1 and parts[0] == "sr_tf" else None
    return ALIASES.get(room, room)


def test_every_module_belongs_to_a_room():
    rooms = {_room(module) for _, module in _modules()} - {None}
    assert rooms <= set(LEVEL), rooms - set(LEVEL)


def test_no_module_imports_a_higher_room_or_a_sibling_room():
    violations = []
    for path, module in _modules():
        room = _room(module)
        if room is None:  # the package's __init__ re-exports the tutorial's names from any room
            continue
        for imported in _imports(path, module):
            other = _room(imported)
            if other in LEVEL and other != room and LEVEL[other] >= LEVEL[room]:
                violations.append(f"{module} imports {imported}")
    assert not violations, "\n".join(violations)


def test_only_the_command_lines_use_argparse():
    users = [module for path, module in _modules() if "argparse" in set(_imports(path, module))]
    assert users and all(_room(m) == "cli" for m in users), users


@pytest.mark.parametrize("limit", [MAX_LINES])
def test_no_source_file_is_over_the_limit(limit):
    long = {module: n for path, module in _modules() if (n := sum(1 for _ in open(path, encoding="utf8"))) > limit}
    assert not long, long


def test_the_rule_catches_an_upward_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from sr_tf.train import Trainer\n")
    imported = list(_imports(str(bad), "sr_tf.models.bad"))
    assert any(LEVEL[_room(i)] > LEVEL["models"] for i in imported if _room(i) in LEVEL)


# The modules every family shares: what they know of a family comes from its spec and registrations, never from a
# name or a list of scales written in them (tests/test_toy_family.py adds a family without editing them).
SHARED = ["cli/common.py", "cli/runner.py", "cli/resolve.py", "cli/export.py", "cli/srgan.py", "cli/sr_data.py",
          "cli/sr_evaluate.py", "models/__init__.py", "models/pytorch.py", "models/ncnn.py", "models/common.py",
          "models/hub.py", "inference.py", "deploy/convert.py", "deploy/quality.py", "train/trainer.py"]


def _literals(path):
    """(string constants that are not docstrings, tuples/lists of small integer constants) of a module."""
    tree = ast.parse(open(path, encoding="utf8").read())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
               and id(n) not in docstrings}
    numbers = [tuple(e.value for e in n.elts) for n in ast.walk(tree) if isinstance(n, (ast.Tuple, ast.List))
               and len(n.elts) > 1 and all(isinstance(e, ast.Constant) and type(e.value) is int for e in n.elts)]
    return strings, numbers


def test_shared_modules_name_no_family_and_list_no_scales():
    from sr_tf import specs

    names = {name for cls in specs.FAMILIES.values() for name in (cls.family, *cls.aliases)}
    scales = {tuple(cls.scales) for cls in specs.FAMILIES.values() if cls.scales} | {(2, 3, 4, 8), (2, 4, 8)}
    for module in SHARED:
        strings, numbers = _literals(os.path.join(PACKAGE, module))
        assert not strings & names, (module, sorted(strings & names))
        assert not scales & set(numbers), (module, sorted(scales & set(numbers)))
