"""Code inputs computed, not listed: the import closure of each rule's script within the package."""

import ast
import re
import sys
import textwrap
from pathlib import Path

import pytest

from hmmrnn.imports import PackageSources, imported_modules, snakefile_imports

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / "workflow"


def tree_reader(root: Path):
    def read(relative: str) -> str | None:
        path = root / relative
        return path.read_text() if path.is_file() else None

    return read


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """A small package ``pkg`` with relative, absolute, lazy, typing-only and submodule imports."""
    files = {
        "pkg/__init__.py": "from .base import VALUE\n",
        "pkg/base.py": "VALUE = 1\n",
        "pkg/leaf.py": "import numpy\n",
        "pkg/middle.py": "from . import leaf\nfrom .sub.deep import thing\n",
        "pkg/lazy.py": "def f():\n    from .unused_elsewhere import g\n    return g\n",
        "pkg/unused_elsewhere.py": "def g():\n    return 0\n",
        "pkg/typed.py": (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .heavy import Heavy\nelse:\n"
            "    from .base import VALUE\n"
        ),
        "pkg/heavy.py": "",
        "pkg/sub/__init__.py": "",
        "pkg/sub/deep.py": "from ..base import VALUE as thing\n",
        "pkg/cycle_a.py": "from .cycle_b import b\na = 1\n",
        "pkg/cycle_b.py": "from .cycle_a import a\nb = 2\n",
        "pkg/never.py": "",
    }
    for relative, text in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    return tmp_path


def closure(root: Path, script: str) -> list[str]:
    return PackageSources(tree_reader(root), package="pkg").closure(textwrap.dedent(script))


def test_closure_follows_relative_imports_submodules_and_enclosing_packages(package):
    assert closure(package, "from pkg.middle import leaf\n") == [
        "pkg/__init__.py",
        "pkg/base.py",
        "pkg/leaf.py",
        "pkg/middle.py",
        "pkg/sub/__init__.py",
        "pkg/sub/deep.py",
    ]


def test_closure_counts_function_level_imports_and_skips_typing_only_ones(package):
    assert "pkg/unused_elsewhere.py" in closure(package, "import pkg.lazy\n")
    typed = closure(package, "from pkg import typed\n")
    assert "pkg/heavy.py" not in typed and "pkg/typed.py" in typed


def test_closure_survives_import_cycles_and_ignores_other_packages_and_missing_names(package):
    assert closure(package, "import os\nimport numpy\nfrom pkg.cycle_a import a\n") == [
        "pkg/__init__.py",
        "pkg/base.py",
        "pkg/cycle_a.py",
        "pkg/cycle_b.py",
    ]
    assert closure(package, "from pkg import VALUE, not_a_module\n") == ["pkg/__init__.py", "pkg/base.py"]
    assert closure(package, "import json\n") == []


def test_relative_imports_resolve_against_the_module_or_the_package():
    assert imported_modules("from ..base import x", "pkg.sub.deep") == [("pkg.base", ["x"])]
    assert imported_modules("from . import leaf", "pkg", is_package=True) == [("pkg", ["leaf"])]
    assert imported_modules("from .leaf import y", "pkg.middle") == [("pkg.leaf", ["y"])]
    with pytest.raises(ValueError, match="beyond the top-level package"):
        imported_modules("from ...x import y", "pkg.sub.deep")


def test_snakefile_imports_keeps_top_level_imports_only():
    text = 'import os\nfrom hmmrnn import (\n    study,\n    tables,\n)\n\nrule a:\n    input:\n        "x"\n'
    assert snakefile_imports(text) == "import os\nfrom hmmrnn import (\n    study,\n    tables,\n)"


def _is_package_module(name: str) -> bool:
    return name == "hmmrnn" or name.startswith("hmmrnn.")


def runtime_package_imports(script: Path) -> set[str]:
    """The package files that executing ``script``'s top-level imports loads, from a clean slate.

    The package's modules are removed from ``sys.modules`` for the import and put back afterwards, so that
    the rest of the test session keeps its module (and class) objects.
    """
    saved = {name: module for name, module in sys.modules.items() if _is_package_module(name)}
    for name in saved:
        del sys.modules[name]
    try:
        tree = ast.parse(script.read_text())
        imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
        exec(compile(ast.Module(body=imports, type_ignores=[]), str(script), "exec"), {})
        return {
            Path(module.__file__).resolve().relative_to(WORKFLOW).as_posix()
            for name, module in sys.modules.items()
            if _is_package_module(name) and getattr(module, "__file__", None)
        }
    finally:
        for name in [name for name in sys.modules if _is_package_module(name)]:
            del sys.modules[name]
        sys.modules.update(saved)


def test_every_script_closure_holds_every_package_module_the_script_really_imports():
    """The truth: run each script's top-level imports and list the package modules they load."""
    sources = PackageSources(tree_reader(WORKFLOW))
    scripts = sorted((WORKFLOW / "scripts").glob("*.py"))
    assert scripts
    for script in scripts:
        loaded = runtime_package_imports(script)
        assert "hmmrnn/__init__.py" in loaded, f"{script.name} imports nothing from the package"
        missing = loaded - set(sources.closure(script.read_text()))
        assert not missing, f"{script.name}: imports {sorted(missing)}, which its code inputs lack"


RULE = re.compile(r"^rule (\w+):\n(.*?)(?=^\S|\Z)", re.M | re.S)


def test_every_rule_with_a_script_takes_its_scripts_closure_as_code_input():
    rules = {}
    for smk in sorted((WORKFLOW / "rules").glob("*.smk")):
        for name, body in RULE.findall(smk.read_text()):
            script = re.search(r'script:\s*"\.\./scripts/(\w+)\.py"', body)
            if script:
                rules[name] = (script.group(1), re.findall(r'code=script_code\("(\w+)"\)', body))
    assert len(rules) >= 39
    wrong = {name: found for name, found in rules.items() if found[1] != [found[0]]}
    assert not wrong, f"rules whose code input is not script_code(<their script>): {wrong}"
