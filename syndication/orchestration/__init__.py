"""What the Prefect flows need beyond the pipeline: run reports, notifications, logging, runners.

Small functions the thin flows in ``flows/`` call; nothing here runs at import time and Prefect is
imported inside functions, so the package imports cheaply.

- ``runlog``: stage log records go to the Prefect run logger, every line naming post, language and
  channel (``post=… lang=… channel=…``);
- ``tasks``: the body of every stage task (a logged ``run_stage``);
- ``artifacts``: the run's markdown summary (the counts ``syndicate run --json`` prints) and the table
  of items awaiting review with links into the review app;
- ``notify``: messages when items wait for review or a delivery failed for good — Prefect events
  for automations, and a configured notification block (``[orchestration] notify_block``);
- ``email_block``: the ``syndication-email`` notification block (SMTP, for self-hosted Prefect);
- ``pipeline_lock``: one ``syndicate`` or ``backfill`` run at a time per store, on any worker;
- ``runners``: the Dask task runner for translation fan-out (``[orchestration] task_runner``).
"""
