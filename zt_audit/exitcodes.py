"""Process exit statuses. Each one has its own test."""

from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0
    """The scan ran and every gate passed."""
    GATE_FAILED = 1
    """A ``--fail-under`` or ``--fail-on`` gate failed."""
    USAGE_ERROR = 2
    """Bad command line, bad configuration or unreadable input (the report is still written)."""
    INTERNAL_ERROR = 3
    """zt-audit itself failed; please report it."""
