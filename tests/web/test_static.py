"""The app serves files from its own static folder and nothing else, however the path is spelled."""

from __future__ import annotations

import pytest

from tests.web.live import raw_get

TRAVERSALS = [
    "/static/../store.py",
    "/static/../../syndication/store.py",
    "/static/..%2fstore.py",
    "/static/..%2f..%2fstore.py",
    "/static/%2e%2e/%2e%2e/store.py",
    "/static/%2e%2e%2f%2e%2e%2fstore.py",
    "/static/%252e%252e/%252e%252e/store.py",
    "/static/..%5c..%5cstore.py",
    "/static/....//....//store.py",
    "/static//etc/passwd",
    "/static/%2fetc%2fpasswd",
    "/static/..%00/store.py",
    "/static/../templates/item.html",
    "/static/%2e%2e/templates/item.html",
]


@pytest.mark.parametrize("target", TRAVERSALS)
def test_paths_out_of_the_static_folder_are_404(anonymous, target):
    status, body = raw_get(anonymous.server.host, anonymous.server.port, target)
    assert status == 404, (target, status)
    assert b"SQLAlchemy" not in body and b"root:" not in body and b"{% extends" not in body


def test_the_static_folder_itself_is_served(anonymous):
    status, body = raw_get(anonymous.server.host, anonymous.server.port, "/static/review.js")
    assert status == 200
    assert b"serialize" in body
