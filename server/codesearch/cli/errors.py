"""How a command fails: each kind is one line on stderr and its own exit status."""

from __future__ import annotations


class UsageError(Exception):
    """A bad flag or argument: exit status 2, and the line names the help to read."""


class CommandFailed(Exception):
    """The command could not do its work (exit status 1); the message says what to do."""


class NotIndexed(CommandFailed):
    """The folder has no index to answer from, and the command was told not to build one."""
