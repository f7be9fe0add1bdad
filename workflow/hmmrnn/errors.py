"""Exceptions raised for bad input: each message names the config key or file and what to fix."""

__all__ = ["ConfigError", "InputFileError"]


class ConfigError(ValueError):
    """A config value is missing, malformed or inconsistent."""


class InputFileError(ValueError):
    """An input file is missing, unreadable, corrupt or of the wrong shape."""
