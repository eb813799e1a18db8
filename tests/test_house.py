"""The package's layout rules (ARCHITECTURE.md): data flows one way between rooms, command-line code stays in
sr_tf/cli, modules stay small."""

import ast
import os

import pytest
from helpers import REPO

PACKAGE = os.path.join(REPO, "sr_tf")

# Rooms from the bottom up; a module may import its own room and lower ones only. Rooms on one level (models and
# data; metrics and sampling) do not import each other.
LEVELS = [
    ["errors", "ops", "atomic", "progress"],
    ["layers", "weights_io", "specs", "outputs", "precision"],
    ["models", "data"],
    ["losses"],
    ["metrics", "sampling"],
    ["inference", "plot"],
    ["train", "deploy"],
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
