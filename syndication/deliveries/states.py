"""The ledger states a selection can name (kept free of imports: ``syndicate --help`` loads it)."""

STATES = (
    "failed",
    "failed-transient",
    "failed-terminal",
    "uncertain",
    "pending",
    "sending",
    "sent",
    "filtered",
)
"""What ``--state`` takes: ledger states, plus ``failed-transient``/``failed-terminal``."""
RETRYABLE_STATES = ("failed", "failed-transient", "failed-terminal", "uncertain")
"""The ``--state`` values a retry takes."""
