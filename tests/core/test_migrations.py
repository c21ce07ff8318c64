"""The Alembic migrations build exactly the schema the models describe (every table, wherever its
model lives), so `alembic revision --autogenerate` starts from a clean slate."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import syndication.deliveries.subscribers
import syndication.web.users  # noqa: F401
from syndication.store import Base, open_store


def test_migrations_match_every_model(tmp_path):
    store = open_store(f"sqlite:///{tmp_path}/schema.db")
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    store.dispose()
    assert diff == []
    assert {"subscribers", "users", "web_sessions", "deliveries"} <= set(Base.metadata.tables)
