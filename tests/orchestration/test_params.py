"""Flow parameters are validated by Prefect with our pydantic types before a run starts."""

from __future__ import annotations

from datetime import date

import pytest
from prefect.exceptions import ParameterTypeError
from pydantic import ValidationError

from flows.backfill import backfill_flow
from flows.params import BackfillOptions, Redelivery, SyndicateOptions
from flows.publish import publish_flow
from flows.syndicate import syndicate_flow


def test_syndicate_parameters_are_typed():
    values = syndicate_flow.validate_parameters(
        {"languages": ["nb", "sv"], "post_url": " https://blog.example.dk/a/ ", "force": True}
    )
    assert values["languages"] == ["nb", "sv"]
    assert values["post_url"] == "https://blog.example.dk/a/"
    assert values["config"] is None and values["dry_run"] is False


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"languages": ["no"]}, "never 'no'"),
        ({"languages": ["Norsk"]}, "not a BCP 47 language tag"),
        ({"languages": []}, "at least 1 item"),
        ({"post_url": "ftp://blog.example.dk/a/"}, r"not an absolute http\(s\) URL"),
        ({"post_url": "https://x.dk/" + "a" * 2000}, "at most 2000 characters"),
        ({"feed": ""}, "at least 1 character"),
    ],
)
def test_bad_syndicate_parameters_are_refused_before_the_run(parameters, message):
    with pytest.raises(ParameterTypeError, match=message):
        syndicate_flow.validate_parameters(parameters)


def test_cross_field_rules():
    with pytest.raises(ValidationError, match="give post_url as well"):
        SyndicateOptions(force=True)
    assert SyndicateOptions(force=True, post_url="https://a.dk/p/").force
    with pytest.raises(ValidationError, match="give pages"):
        BackfillOptions()
    with pytest.raises(ValidationError, match="before since"):
        BackfillOptions(since=date(2026, 5, 2), until=date(2026, 5, 1))
    assert BackfillOptions(since=date(2026, 5, 1)).until is None


def test_backfill_and_publish_parameters():
    values = backfill_flow.validate_parameters({"since": "2026-01-01", "until": "2026-03-31"})
    assert values["since"] == date(2026, 1, 1) and values["until"] == date(2026, 3, 31)
    with pytest.raises(ParameterTypeError, match="greater than or equal to 1"):
        backfill_flow.validate_parameters({"pages": 0})
    values = publish_flow.validate_parameters(
        {"post_ids": [3], "redeliver": {"post": "412", "lang": "nb", "channel": "outbox"}}
    )
    assert values["post_ids"] == [3]
    assert values["redeliver"] == Redelivery(post="412", lang="nb", channel="outbox")
    with pytest.raises(ParameterTypeError, match="redeliver"):
        publish_flow.validate_parameters({"redeliver": {"post": "412", "lang": "nb"}})
    with pytest.raises(ParameterTypeError, match="greater than 0"):
        publish_flow.validate_parameters({"post_ids": [0]})


def test_the_parameter_schema_describes_the_parameters():
    from prefect.utilities.callables import parameter_schema

    schema = parameter_schema(syndicate_flow.fn).model_dump()
    properties = schema["properties"]
    assert set(properties) == {"config", "feed", "languages", "dry_run", "force", "post_url"}
    assert "target languages" in properties["languages"]["description"]
    assert properties["post_url"]["anyOf"][0]["maxLength"] == 2000


@pytest.mark.parametrize(
    ("flow", "parameters", "message"),
    [
        (
            syndicate_flow,
            {"force": True},
            "force re-extracts and re-translates one post: give post_url as well",
        ),
        (backfill_flow, {}, "give pages (how many feed pages to read) or since (a start date)"),
    ],
)
def test_rules_across_parameters_fail_the_run_in_plain_words(flow, parameters, message):
    """`prefect deployment run … --param force=true` without post_url: the run's state message is
    the rule, not pydantic's report with its type tags and documentation link."""
    from flows.params import ParameterError

    with pytest.raises(ParameterError) as raised:
        flow.fn(**parameters)
    assert str(raised.value) == message
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
