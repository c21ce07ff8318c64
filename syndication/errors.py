"""One tree of errors for the whole pipeline.

Every adapter (HTTP, feed parser, engine, channel) maps its library's exceptions to one of these at
its boundary (``raise TranslationError(...) from exc``), so the pipeline decides what to do from the
class alone: a *transient* error is retried (now with backoff, or on the next run), a *terminal* one
is recorded with a message that says what to fix and is not retried until something changes.

::

    SyndicationError                      .transient = False unless stated
    ├── ConfigError                       bad or missing configuration, a secret in the TOML
    ├── StoreError                        database unreachable, schema out of date
    ├── PipelineBusyError                 another run holds the pipeline lock     (transient)
    ├── FetchError                        an HTTP fetch of a feed, page or robots.txt
    │   ├── TransientFetchError           timeout, connection reset, 429, 5xx     (transient)
    │   │   └── RunBudgetSpentError       the run's time budget ran out: left for the next run
    │   ├── BlockedURLError               private/loopback address, bad scheme, robots.txt
    │   └── ResponseTooLargeError         body over the configured size cap
    ├── FeedError                         the feed cannot be used at all (gone, not a feed)
    ├── ExtractionError                   no article could be extracted from a page
    ├── SegmentationError                 HTML that cannot be split/joined
    ├── TranslationError                  an engine failed for (post, language)
    │   ├── TransientTranslationError     engine process crashed or timed out      (transient)
    │   └── EngineUnavailableError        pair or model not installed: says what to install
    ├── ReviewError                       a review action that cannot be applied
    │   ├── StaleRevisionError            approving a revision that is no longer current
    │   ├── EditConflictError             someone else changed the segment first
    │   └── PlaceholderError              an edit removed or invented a placeholder
    ├── UserError                         a review-app account that cannot be made or changed
    └── DeliveryError                     a channel failed for (post, language, channel)
        ├── TransientDeliveryError        timeout, 429, 5xx, SMTP 4xx              (transient)
        └── TerminalDeliveryError         401/403, 400, SMTP 5xx, bad channel config
            └── UncertainDeliveryError    handed over, answer lost: may have arrived (e-mail)

Messages name the post, language and channel where they are known, and say what to do.
"""

from __future__ import annotations

from typing import ClassVar


class SyndicationError(Exception):
    """Base of every error this package raises on purpose."""

    transient: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        post: str | None = None,
        lang: str | None = None,
        channel: str | None = None,
        url: str | None = None,
    ) -> None:
        self.message = message
        self.post = post
        self.lang = lang
        self.channel = channel
        self.url = url
        super().__init__(message)

    def __str__(self) -> str:
        context = [
            f"{name} {value}"
            for name, value in (
                ("post", self.post),
                ("language", self.lang),
                ("channel", self.channel),
                ("url", self.url),
            )
            if value
        ]
        return f"{self.message} ({', '.join(context)})" if context else self.message

    @property
    def kind(self) -> str:
        return "transient" if self.transient else "terminal"


class ConfigError(SyndicationError):
    pass


class PipelineBusyError(SyndicationError):
    """Another ``syndicate``/``backfill`` run holds the store's pipeline lock and this one would
    not wait (longer) for it; nothing was run. ``holder`` says who, as the lock tells it."""

    transient = True

    def __init__(self, message: str, *, holder: str | None = None, waited: float = 0.0) -> None:
        super().__init__(message)
        self.holder = holder
        self.waited = waited


class StoreError(SyndicationError):
    pass


class FetchError(SyndicationError):
    def __init__(
        self, message: str, *, url: str | None = None, status: int | None = None, **kw: str | None
    ) -> None:
        super().__init__(message, url=url, **kw)
        self.status = status


class TransientFetchError(FetchError):
    transient = True

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
        **kw: str | None,
    ) -> None:
        super().__init__(message, url=url, status=status, **kw)
        self.retry_after = retry_after


class RunBudgetSpentError(TransientFetchError):
    """The run's time budget (``fetch.run_budget``) ran out before or during this request: the
    item is deferred to the next run on purpose, which is not a failure of the item."""


class BlockedURLError(FetchError):
    pass


class ResponseTooLargeError(FetchError):
    pass


class FeedError(SyndicationError):
    pass


class ExtractionError(SyndicationError):
    pass


class SegmentationError(SyndicationError):
    pass


class TranslationError(SyndicationError):
    pass


class TransientTranslationError(TranslationError):
    transient = True


class EngineUnavailableError(TranslationError):
    pass


class ReviewError(SyndicationError):
    pass


class StaleRevisionError(ReviewError):
    pass


class EditConflictError(ReviewError):
    pass


class PlaceholderError(ReviewError):
    pass


class UserError(SyndicationError):
    pass


class DeliveryError(SyndicationError):
    whole_channel: bool = False
    """Set by a channel when the failure is the channel's, not the item's (server unreachable,
    credentials refused): the run sends nothing more to that channel and leaves the rest, untouched,
    for the next run — instead of a login attempt or a connect timeout per item."""


class TransientDeliveryError(DeliveryError):
    transient = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: str | None) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class TerminalDeliveryError(DeliveryError):
    pass


class UncertainDeliveryError(TerminalDeliveryError):
    """The item was handed over and the answer was lost (an SMTP connection dropped after the final
    dot): it may have arrived. The ledger records the row ``uncertain`` (never resent without a
    person saying so) and the run stops sending to the channel: the next item would meet the same
    server."""

    whole_channel = True
