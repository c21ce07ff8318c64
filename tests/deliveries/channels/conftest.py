from __future__ import annotations

import pytest
from channels_support import Items, MailRecorder, WebhookReceiver, start_smtp

from syndication.deliveries import stage
from syndication.store import open_store


@pytest.fixture
def db_url(tmp_path):
    return f"sqlite:///{tmp_path}/syndication.db"


@pytest.fixture
def store(db_url):
    store = open_store(db_url)
    yield store
    store.dispose()


@pytest.fixture
def items(store, monkeypatch):
    registry = Items(store)
    monkeypatch.setattr(stage, "approved_item", registry.approved_item)
    return registry


@pytest.fixture
def mail():
    recorder = MailRecorder()
    controller = start_smtp(recorder)
    recorder.port = controller.port
    yield recorder
    controller.stop()


@pytest.fixture
def receiver():
    server = WebhookReceiver(secret="whsec-test-0123456789")
    yield server
    server.stop()
