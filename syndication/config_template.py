"""The commented ``config/syndication.toml`` that ``syndicate init`` writes."""

from __future__ import annotations

TEMPLATE = """\
# syndication — configuration
#
# Secrets (passwords, tokens, API keys) never go in this file: set them as environment variables,
# SYNDICATION__<SECTION>__<NAME>__<KEY>, e.g.
#   export SYNDICATION__CHANNELS__PARTNER_NO__PASSWORD='xxxx xxxx xxxx xxxx'
# or name a Prefect Secret block: password_block = "partner-no-password".
# Relative paths are resolved against the folder above config/.

[store]
# Any SQLAlchemy URL. SQLite needs no server; teams point this at PostgreSQL:
#   url = "postgresql://syndication@db.example/syndication"
url = "sqlite:///syndication.db"

[fetch]
# Sent with every request so site owners know who is calling.
user_agent = "syndication/0.1 (+{contact})"
timeout = 20              # seconds to connect, and for each read
deadline = 60             # seconds one fetch may take in all (connect, headers, body)
run_budget = 600          # seconds a run may spend on feeds and pages; the rest waits for the next run
max_bytes = 10_000_000    # larger responses are refused
min_host_interval = 1.0   # seconds between two requests to the same host (one at a time per host)
concurrency = 16          # feeds polled at the same time
respect_robots = true
# Hosts that may resolve to private or loopback addresses (refused otherwise), e.g. an intranet blog,
# or networks any name may resolve to ("10.1.2.0/24").
allow_private_hosts = []

[links]
# Articles the posts link to are fetched and translated too: same site, plus these hosts.
depth = 1
allowed_hosts = []
max_per_post = 10

[polling]
# A feed answering 410 Gone or 404 is polled backed off (1 h, doubling up to 1 d) and retired only
# after this many such polls over at least this many days; a retired feed is still asked daily and
# comes back on its own when it answers (or now: syndicate feeds resume NAME).
retire_after_polls = 3
retire_after_days = 7
retry_after_cap = 21600   # seconds: the longest a server's Retry-After may defer a feed's next poll

[pages]
# A page that fails (404, 403, robots.txt, too large, timeout) is tried again after each of these
# waits in seconds (10 min, 1 h, 6 h, 1 d, 3 d), then listed as failed until `syndicate posts retry`.
retry_schedule = [600, 3600, 21600, 86400, 259200]
max_defer = 21600            # longest a host's Retry-After postpones its pages (seconds)
recheck_interval = 604800    # re-check linked articles for corrections weekly (0 = never)

[[feeds]]
url = "{feed_url}"
name = "blog"
source_lang = "da"
# true: the first poll only marks existing posts as seen; only later posts are translated.
baseline = true

[translation]
source_lang = "da"
targets = ["nb", "sv"]    # BCP 47: nb, nn, sv, en, de … (never "no")
# Engines: for nb, nn and sv an installed OPUS-MT model (`syndicate models install opus-mt:da-sv`),
# else apertium; argos for every other language (en, de, fr …; install its models with
# `syndicate models install translate-da_en`). Override per language (a name from [engines.*] or
# opus-da-XX, or a list: the first installed one is used), or for all unlisted languages with
# default_engine:
# engines = {{ sv = ["opus-da-sv", "apertium"], en = "argos" }}
# models_dir = "/srv/opus-models"   # OPUS-MT models (default ~/.local/share/syndication/models)
# default_engine = "argos"
# glossary = "config/glossary.csv"   # the default, read when the file exists; "" for none
# Segments whose engine confidence (0-1) is below this get the low_confidence QA flag (default 0:
# off; check with `syndicate evaluate` that the confidence means something for your engine first):
# low_confidence = 0.5
# low_confidence_by_lang = {{ sv = 0.6 }}

[engines.apertium]
type = "apertium"         # Debian: apt-get install apertium apertium-dan-nor apertium-swe-dan

# [engines.argos]
# type = "argos"          # install models with `syndicate models install translate-da_en`
# beam_size = 2
# compute_type = "int8"

[review]
# Languages whose machine translations go out without an editor. Segments with QA flags are
# never auto-approved.
auto_approve = []
# auto_approve_min_confidence = 0.8   # and only when every machine segment is at least this sure
# Apply a learned correction (an editor's word fix of machine output) before review once editors
# made it in this many segments and never undid it; 0: only suggest it beside the segment.
# auto_apply_corrections = 3

[channels.outbox]
type = "outbox"
path = "outbox"           # per-language HTML files and Atom feeds
# base_url = "https://example.org/translations"   # public URL of this folder, for absolute links
"""


def render(*, feed_url: str = "https://example.dk/feed/", contact: str = "mailto:editor@example.dk") -> str:
    return TEMPLATE.format(feed_url=feed_url, contact=contact)
