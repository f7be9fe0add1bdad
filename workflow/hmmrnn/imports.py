"""Which files of the package a script imports, directly or through other modules: a rule's code inputs.

``workflow/rules/package.smk`` lists these files among each rule's inputs, so that editing a module reruns every
rule whose script reaches it. The module uses only the standard library and no package-relative import, so that
``package.smk`` can run it by path before the package itself is importable (a workflow deployed from a remote
repository, whose files arrive one by one through Snakemake's source cache).

Imports are read with :mod:`ast` at any depth (an import inside a function counts), except under
``if TYPE_CHECKING:``, which never runs. Dynamic imports (``importlib.import_module`` with a computed name) are
invisible to it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable

__all__ = ["PackageSources", "imported_modules", "snakefile_imports"]

Reader = Callable[[str], "str | None"]


def imported_modules(source: str, module: str | None = None, is_package: bool = False) -> list[tuple[str, list[str]]]:
    """Every import statement of ``source`` as ``(module name, imported names)``, relative imports resolved.

    Parameters
    ----------
    source : str
        Python source text.
    module : str, optional
        Dotted name of the module ``source`` is (``None`` for a script, which has no relative imports).
    is_package : bool
        Whether ``source`` is a package's ``__init__.py`` (its relative imports start from the package itself).

    Returns
    -------
    list of (str, list of str)
        ``import a.b`` gives ``("a.b", [])``; ``from .x import y, z`` in module ``p.m`` gives ``("p.x", ["y", "z"])``.
    """
    package = (module if is_package else module.rpartition(".")[0]) if module else ""
    found: list[tuple[str, list[str]]] = []
    for node in _executed_nodes(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".") if package else []
                if node.level > len(parts):
                    raise ValueError(f"{module}: relative import beyond the top-level package (level {node.level})")
                anchor = ".".join(parts[: len(parts) - (node.level - 1)])
                base = f"{anchor}.{base}" if base else anchor
            found.append((base, [alias.name for alias in node.names]))
    return found


_TOP_LEVEL_IMPORT = re.compile(r"^(?:from[ \t]+[\w.]+[ \t]+import[ \t]+(?:\([^)]*\)|[^\n]*)|import[ \t]+[^\n]*)", re.M)


def snakefile_imports(text: str) -> str:
    """The top-level import statements of a Snakemake file (not Python as a whole), as Python source."""
    return "\n".join(_TOP_LEVEL_IMPORT.findall(text))


def _executed_nodes(tree: ast.AST):
    """Every node of ``tree`` except the bodies of ``if TYPE_CHECKING:`` blocks."""
    pending = [tree]
    while pending:
        node = pending.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            pending += node.orelse
        else:
            pending += ast.iter_child_nodes(node)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class PackageSources:
    """The files of one package, read through ``read`` and parsed at most once each.

    Parameters
    ----------
    read : callable
        ``read("hmmrnn/study.py")`` returns the text of that file of the source tree, or ``None`` where there is
        no such file. Paths are relative to the folder that holds the package.
    package : str
        The top-level package whose files count; imports of other packages are ignored.
    """

    def __init__(self, read: Reader, package: str = "hmmrnn") -> None:
        self._read = read
        self._package = package
        self._files: dict[str, tuple[str, bool] | None] = {}  # module name -> (path, is_package), None if absent
        self._imports: dict[str, list[tuple[str, list[str]]]] = {}  # path -> its imports within the package

    def module_file(self, name: str) -> tuple[str, bool] | None:
        """``(path, is_package)`` of module ``name`` (``a/b.py`` or ``a/b/__init__.py``), or ``None``."""
        if name not in self._files:
            stem = name.replace(".", "/")
            self._files[name] = None
            for path, is_package in ((f"{stem}.py", False), (f"{stem}/__init__.py", True)):
                text = self._read(path)
                if text is not None:
                    self._files[name] = (path, is_package)
                    self._imports[path] = self._own_imports(text, name, is_package)
                    break
        return self._files[name]

    def _own_imports(self, text: str, module: str | None, is_package: bool) -> list[tuple[str, list[str]]]:
        return [
            (target, names)
            for target, names in imported_modules(text, module, is_package)
            if target.partition(".")[0] == self._package
        ]

    def _loaded_files(self, name: str) -> list[tuple[str, bool]]:
        """The files that ``import name`` executes: each enclosing package's ``__init__.py``, then the module."""
        parts = name.split(".")
        files = []
        for depth in range(1, len(parts) + 1):
            found = self.module_file(".".join(parts[:depth]))
            if found is None:
                break
            files.append(found)
        return files

    def closure(self, source: str) -> list[str]:
        """Sorted paths of every package file that running ``source`` (a script) imports, directly or not.

        ``from pkg import name`` counts ``pkg/name.py`` (or ``pkg/name/__init__.py``) where ``pkg`` is a package
        that has such a submodule.

        Raises
        ------
        SyntaxError
            Where ``source`` or a package module is not valid Python.
        """
        seen: set[str] = set()
        pending = self._own_imports(source, None, False)
        while pending:
            target, names = pending.pop()
            files = self._loaded_files(target)
            if len(files) == target.count(".") + 1 and files[-1][1]:  # a package: names may be submodules
                pending += [(f"{target}.{name}", []) for name in names if name != "*"]
            for path, _ in files:
                if path not in seen:
                    seen.add(path)
                    pending += self._imports[path]
        return sorted(seen)
