# The workflow's own package `hmmrnn` (workflow/hmmrnn), importable wherever the workflow runs, without a pip
# install: in a clone, as a module deployed into another folder (snakedeploy), under --sdm conda, on a cluster.
# The Snakefile includes this file first, before anything imports the package.
#
# A local source (a clone, or a module whose snakefile is a path) is imported in place. A remote source (a module
# from github(...)) is read through Snakemake's source cache, which keeps the repository's layout: the files this
# workflow's Snakefile and common.smk import, and those every rule's script imports (script_code), are fetched
# there, and the package is imported from that copy. Jobs get the same folder through PYTHONPATH (local jobs and
# --sdm conda inherit it; cluster jobs read this file again). Each rule lists the package files its script
# imports, transitively, as `code` inputs (script_code), so that editing a module reruns exactly those rules.

import os
import runpy
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError


def read_own_source(relative):
    """Text of ``workflow/<relative>`` in this workflow's own source, or None where there is no such file."""
    try:
        return Path(workflow.source_path(f"../{relative}")).read_text()
    except (OSError, WorkflowError):
        return None


# imports.py imports nothing from the package, so it runs before the package is importable
PACKAGE_SOURCES = runpy.run_path(workflow.source_path("../hmmrnn/imports.py"))
PACKAGE_FILES = PACKAGE_SOURCES["PackageSources"](read_own_source)


def own_package_root():
    """The folder holding ``hmmrnn``: ``workflow/`` of a local source, else its copy in the source cache."""
    rules_dir = Path(str(workflow.current_basedir))
    if rules_dir.is_absolute() and rules_dir.is_dir():
        return rules_dir.parent
    for snakefile in ("../Snakefile", "rules/common.smk"):  # fetch what they import
        imports = PACKAGE_SOURCES["snakefile_imports"](read_own_source(snakefile))
        PACKAGE_FILES.closure(imports)
    init = Path(workflow.source_path("../hmmrnn/__init__.py"))
    if init.name != "__init__.py":  # gitfile(...): the cache names files <name>@<ref>
        raise WorkflowError(
            f"cannot import the workflow's package from its cached copy {init}; give the module's snakefile "
            "as a local path or as github(...) / gitlab(...)"
        )
    return init.parents[1]


def use_own_package(root):
    """Put ``root`` first on this process's path and on the PYTHONPATH of every Python a job starts."""
    root = str(root)
    if sys.path[:1] != [root]:
        sys.path.insert(0, root)
    inherited = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    paths = [root, *(path for path in inherited if path and path != root)]
    os.environ["PYTHONPATH"] = os.pathsep.join(paths)


def script_code(script):
    """The package files that ``workflow/scripts/<script>.py`` imports, directly or not: a rule's code inputs."""
    text = read_own_source(f"scripts/{script}.py")
    if text is None:
        raise WorkflowError(f"script_code: no script workflow/scripts/{script}.py")
    return [workflow.source_path(f"../{path}") for path in PACKAGE_FILES.closure(text)]


use_own_package(own_package_root())


envvars:
    "PYTHONPATH",
