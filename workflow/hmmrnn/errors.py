"""Exceptions raised for bad input: each message names the config key or file and what to fix."""

__all__ = ["CONFIGFILES_ENV", "ConfigError", "InputFileError"]

# The --configfile options of the Snakemake run (os.pathsep-separated), set by workflow/rules/common.smk, so that
# a job's message about a bad file can give the whole command that rebuilds it (hmmrnn.io.rebuild_command).
CONFIGFILES_ENV = "HMMRNN_CONFIGFILES"


class ConfigError(ValueError):
    """A config value is missing, malformed or inconsistent."""


class InputFileError(ValueError):
    """An input file is missing, unreadable, corrupt or of the wrong shape."""
