"""The Alembic migrations build exactly the schema the models describe (every table, wherever its
model lives), so `alembic revision --autogenerate` starts from a clean slate."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import syndication.deliveries.subscribers
import syndication.web.users  # noqa: F401
from syndication.errors import StoreError
from syndication.store import Base, open_store


def test_migrations_match_every_model(tmp_path):
    store = open_store(f"sqlite:///{tmp_path}/schema.db")
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    store.dispose()
    assert diff == []
    assert {"subscribers", "users", "web_sessions", "deliveries"} <= set(Base.metadata.tables)


def test_a_database_url_without_its_driver_says_which_extra_to_install(tmp_path):
    # MySQLdb is not a dependency, so its SQLAlchemy dialect cannot load here: the same path a
    # PostgreSQL URL takes on an install without `syndication[postgres]`.
    with pytest.raises(StoreError, match=r"not installed.*syndication\[postgres\]"):
        open_store("mysql+mysqldb://user@127.0.0.1/syndication")


def test_an_unreachable_database_is_a_store_error_naming_it_without_the_password():
    with pytest.raises(StoreError) as info:
        open_store("postgresql://editor:s3cret@127.0.0.1:1/syndication")
    assert "s3cret" not in str(info.value)
    assert "127.0.0.1:1" in str(info.value)


def test_the_head_read_from_the_version_files_is_alembics():
    from alembic.script import ScriptDirectory

    from syndication.store import MIGRATIONS, _heads_from_files

    assert _heads_from_files() == tuple(sorted(ScriptDirectory(str(MIGRATIONS)).get_heads()))


def test_a_store_at_head_opens_without_running_alembic(tmp_path):
    """Every stage of a run opens the store: one at head must not pay for Alembic each time (issue
    13: most of a no-change run). A fresh process, so nothing imported Alembic before."""
    import subprocess
    import sys

    from syndication.store import open_store

    url = f"sqlite:///{tmp_path}/s.db"
    open_store(url).dispose()  # created and migrated here
    code = (
        "import sys; from syndication.store import open_store; "
        f"open_store({url!r}).dispose(); print('alembic' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False", done.stderr
    fresh = f"sqlite:///{tmp_path}/new.db"
    code = code.replace(repr(url), repr(fresh))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "True"  # a new store is still created by Alembic
