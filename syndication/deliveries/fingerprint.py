"""A channel's configuration as a short fingerprint, so the ledger can tell that it changed.

A terminal failure (wrong password, a URL that answers 404, a refused sender) is not retried on its
own: repeating it changes nothing and can lock an account. Once the operator fixes the configuration
the failure is worth one more try, and the fingerprint is how the next run notices the fix without
anyone naming the delivery (``syndicate deliveries retry ID`` remains for the other cases).

Secrets are part of the configuration (a new Application Password is the usual fix for a 401) but
must not be recoverable from the database, so each goes through scrypt first: deterministic, so a
later run can compare, and slow and salted with the channel's name, so the stored value is no
shortcut to guessing the secret (the same care as the review app's Argon2 password hashes).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
"""≈16 MiB and some tens of milliseconds per secret; computed only when a failure needs it."""


def channel_fingerprint(name: str, options: Mapping[str, Any], secrets: Mapping[str, str]) -> str:
    """16 hex digits over the channel's options (as the config gives them) and its secrets."""
    digest = hashlib.sha256()
    digest.update(json.dumps(dict(options), sort_keys=True, default=str).encode())
    for key in sorted(secrets):
        salt = f"syndication-channel:{name}:{key}".encode()
        digest.update(key.encode() + b"\0")
        digest.update(hashlib.scrypt(secrets[key].encode(), salt=salt, **SCRYPT))
    return digest.hexdigest()[:16]
