"""Exit codes of ``syndicate`` (and ``python -m flows.*``), so cron and CI see failures without
parsing JSON:

=====  ==========================================================================================
0      all done (including "nothing to do")
1      some work failed in this run: a feed, page, translation or delivery (the summary says which;
       the rest of the run went on), or the command's one action failed
2      usage or configuration error: nothing was run
3      the store (database) is unavailable: nothing was run
=====  ==========================================================================================
"""

from __future__ import annotations

OK = 0
WORK_FAILED = 1
USAGE = 2
STORE_UNAVAILABLE = 3
