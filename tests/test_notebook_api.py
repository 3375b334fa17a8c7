"""Chapters use the package's public API only: imports stop at a subpackage (``zfcourse.deconv``, not
``zfcourse.deconv.worked``) and no chapter assigns to an attribute of a zfcourse module (no monkey-patching).

Each notebook's code cells are parsed (IPython magics and shell lines are blanked first) and their ``import`` /
``from ... import`` statements, ``importlib.import_module("...")`` calls and assignments are checked.
"""
import ast
import json
import re
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parents[1] / "book"
NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))
MAGIC = re.compile(r"^\s*[%!]")


def code_of(notebook: Path) -> str:
    """The notebook's code cells as one Python source, magics and shell escapes replaced by ``pass``."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    lines = []
    for cell in cells:
        if cell["cell_type"] == "code":
            src = "".join(cell["source"])
            lines += [re.sub(r"[%!].*", "pass", line) if MAGIC.match(line) else line for line in src.splitlines()]
    return "\n".join(lines)


def too_deep(module: str) -> bool:
    """``zfcourse.a.b`` and deeper: past a subpackage's (or a top-level module's) public surface."""
    parts = module.split(".")
    return parts[0] == "zfcourse" and len(parts) > 2


def violations(source: str) -> list[str]:
    """Every deep import and every assignment to an attribute of a zfcourse module in ``source``."""
    tree = ast.parse(source)
    modules = set()  # local names bound to zfcourse modules
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if too_deep(alias.name):
                    found.append(f"line {node.lineno}: import {alias.name}")
                if alias.name.split(".")[0] == "zfcourse":
                    modules.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if too_deep(node.module):
                found.append(f"line {node.lineno}: from {node.module} import ...")
            if node.module == "zfcourse":
                modules.update(a.asname or a.name for a in node.names)  # from zfcourse import models
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module":
            arg = node.args[0] if node.args else None
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value.startswith("zfcourse"):
                found.append(f"line {node.lineno}: importlib.import_module({arg.value!r})")
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, (ast.AugAssign, ast.AnnAssign)) else []
        for t in targets:
            if isinstance(t, ast.Attribute):
                root = t.value
                while isinstance(root, ast.Attribute):
                    root = root.value
                if isinstance(root, ast.Name) and root.id in modules:
                    found.append(f"line {node.lineno}: assignment to {ast.unparse(t)}")
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "setattr" and node.args:
            root = node.args[0]
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in modules:
                found.append(f"line {node.lineno}: setattr on {ast.unparse(node.args[0])}")
    return found


def test_the_checker_catches_what_it_should():
    bad = """import zfcourse
import zfcourse.deconv.reverse as rev
from zfcourse.deconv.worked import plot_unpooling
from zfcourse import deconv
import importlib
m = importlib.import_module("zfcourse.deconv.batched")
zfcourse.deconv.unpool = print
deconv.RECTIFY = ()
setattr(zfcourse.models, "zfnet", None)
"""
    found = violations(bad)
    assert [f.split(":")[0] for f in found] == ["line 2", "line 3", "line 6", "line 7", "line 8", "line 9"]
    good = """import zfcourse
from zfcourse.deconv import project
from zfcourse.models import zfnet
net = zfnet()
net.features.conv1.weight.data = None     # a model's attribute, not a module's
"""
    assert violations(good) == []


# Chapters whose remaining deep imports need names their subpackage does not export yet. strict: once the exports
# land and the chapter's imports are fixed, the xfail turns into a failure that says to drop the entry.
PENDING: dict[str, str] = {}  # chapter → what it waits for, while an export is missing


@pytest.mark.parametrize("notebook", [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=PENDING[n.stem]))
                                      if n.stem in PENDING else n for n in NOTEBOOKS], ids=[n.stem for n in NOTEBOOKS])
def test_chapters_use_the_public_api(notebook):
    found = violations(code_of(notebook))
    assert not found, f"{notebook.name}: " + "; ".join(found)
