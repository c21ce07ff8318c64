"""Approval → a real Prefect server: the ``publish`` deployment gets a flow run for the post."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from syndication.store import ReviewEvent
from syndication.web.publishing import Publisher
from tests.web.conftest import Env, login, make_client
from tests.web.test_review import decide

pytestmark = pytest.mark.e2e


def test_approving_starts_a_flow_run_of_the_publish_deployment(env: Env):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    from flows.publish import publish_flow

    with prefect_test_harness(server_startup_timeout=90):
        api_url = PREFECT_API_URL.value()
        deployment_id = publish_flow.to_deployment(name="publish").apply()
        publisher = Publisher(env.ctx, prefect_api_url=api_url)
        tid = env.translation_id("sv")
        with make_client(env, publisher) as client:
            token = login(client)
            assert decide(client, tid, "approve", token, confirm_flags="1").status_code == 303
            page = client.get(f"/items/{tid}").text
        with get_client(sync_client=True) as prefect:
            runs = prefect.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
            )
    assert len(runs) == 1
    assert runs[0].parameters == {"post_ids": [env.post_id]}
    assert f"Publishing started: Prefect flow run {runs[0].name} of publish/publish" in page
    with env.ctx.store.session() as session:
        started = session.scalars(select(ReviewEvent).where(ReviewEvent.action == "publish_started")).one()
    assert str(runs[0].id) in (started.comment or "")
