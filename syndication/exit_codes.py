"""Exit codes of ``syndicate`` commands (and ``python -m flows.*``), for cron jobs and CI that do
not parse the output:

== ======================================================================================
0  all done (nothing failed in this run; work deferred on purpose, such as feeds left for
   the next run when the run's time budget was spent, is not a failure)
1  some work failed (a feed, page, translation or delivery: see the summary's ``errors``; the
   rest of the run went on), or the command's one action failed
2  usage or configuration error (a bad option, an invalid or missing config file): nothing ran
3  the store is unavailable (database file read-only, folder missing, server unreachable,
   not a database): nothing ran
== ======================================================================================

With ``--json`` a command that stops on one of these still prints one JSON object with an
``errors`` list, so a script always has something to read.
"""

from __future__ import annotations

from typing import Final

OK: Final = 0
WORK_FAILED: Final = 1
USAGE: Final = 2
STORE_UNAVAILABLE: Final = 3
