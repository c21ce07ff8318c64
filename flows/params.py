"""Typed flow parameters: Prefect validates them with pydantic before a run starts and shows them
as a form in the UI (``prefect deployment run … --param languages='["nb"]'`` is checked the same way).

Single-field rules live in the ``Annotated`` types; rules across fields (``force`` needs a post,
a backfill needs ``pages`` or ``since``) in the small models the flows validate first.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

_LANG = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")


def _language(value: str) -> str:
    if value == "no":
        raise ValueError("use 'nb' (Bokmål) or 'nn' (Nynorsk), never 'no'")
    if not _LANG.match(value):
        raise ValueError(f"{value!r} is not a BCP 47 language tag such as 'nb' or 'sv'")
    return value


def _http_url(value: str) -> str:
    value = value.strip()
    if not re.match(r"^https?://[^\s/?#]+", value, re.IGNORECASE):
        raise ValueError(f"{value[:100]!r} is not an absolute http(s) URL")
    return value


# Constraints sit on the inner type: on ``X | None`` pydantic would apply them to ``None`` too.
Language = Annotated[str, AfterValidator(_language), Field(description="BCP 47 tag: nb, nn, sv, de, en …")]
Languages = Annotated[
    Annotated[list[Language], Field(min_length=1)] | None,
    Field(description="Only these target languages (default: all configured)"),
]
PostURL = Annotated[
    Annotated[str, Field(max_length=2000), AfterValidator(_http_url)] | None,
    Field(description="One post's URL (or its GUID): syndicates just that post"),
]
ConfigPath = Annotated[
    Annotated[str, Field(min_length=1, max_length=4000)] | None,
    Field(
        description="Config file on the worker (default: $SYNDICATION_CONFIG, else config/syndication.toml)"
    ),
]
FeedRef = Annotated[
    Annotated[str, Field(min_length=1, max_length=2000)] | None,
    Field(description="Only this configured feed (URL or name)"),
]
ChannelName = Annotated[
    Annotated[str, Field(min_length=1, max_length=100)] | None, Field(description="Only this channel")
]
PostIds = Annotated[
    Annotated[list[Annotated[int, Field(gt=0)]], Field(min_length=1)] | None,
    Field(description="Only these posts (ids, as `syndicate review list` shows them)"),
]
Pages = Annotated[
    Annotated[int, Field(ge=1, le=10_000)] | None,
    Field(description="How many feed pages (?paged=N) to read, newest first"),
]


class ParameterError(ValueError):
    """Flow parameters that do not go together; the message is the rule, in words (no pydantic
    report, no link to pydantic's error pages)."""


_Options = TypeVar("_Options", bound=BaseModel)


def check_options(model: type[_Options], **values: Any) -> _Options:
    """``model(**values)``, with a broken rule raised as a readable ``ParameterError``."""
    try:
        return model(**values)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            message = str(error["msg"]).removeprefix("Value error, ")
            field = ".".join(str(part) for part in error["loc"])
            problems.append(f"{field}: {message}" if field else message)
        raise ParameterError("; ".join(problems)) from None


class SyndicateOptions(BaseModel):
    model_config = ConfigDict(frozen=True)

    post_url: str | None = None
    force: bool = False

    @model_validator(mode="after")
    def _force_needs_post(self) -> SyndicateOptions:
        if self.force and not self.post_url:
            raise ValueError("force re-extracts and re-translates one post: give post_url as well")
        return self


class BackfillOptions(BaseModel):
    model_config = ConfigDict(frozen=True)

    pages: int | None = Field(default=None, ge=1, le=10_000)
    since: date | None = None
    until: date | None = None

    @model_validator(mode="after")
    def _range(self) -> BackfillOptions:
        if self.pages is None and self.since is None:
            raise ValueError("give pages (how many feed pages to read) or since (a start date)")
        if self.since is not None and self.until is not None and self.until < self.since:
            raise ValueError(f"until ({self.until}) is before since ({self.since})")
        return self


class Redelivery(BaseModel):
    """``publish`` with ``redeliver``: one approved item to one channel again."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    post: str = Field(min_length=1, max_length=2000, description="Post id, GUID or URL")
    lang: Language
    channel: str = Field(min_length=1, max_length=100)
