"""Errors that mean "bad input": the CLI prints them on one line, exit 2."""


class CoordsweepError(Exception):
    """Bad input from the user (spec, arguments, store). Exit code 2."""


class SpecError(CoordsweepError):
    """The sweep spec is invalid; the message names the key (and sector, value)."""


class StoreError(CoordsweepError):
    """The results store cannot be used as asked (exists, incomplete, wrong spec...)."""


class UsageError(CoordsweepError):
    """A command-line argument is invalid (unknown axis, variable, sector...)."""
