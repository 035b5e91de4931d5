"""``wangge db backup`` / ``restore``: a round trip through pg_dump's custom format."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from api.backup import backup, restore
from api.db import make_engine
from api.settings import Settings
from geo.errors import InvalidInput
from layers.photos.store import FileStore
from tests.zoo import photo

COUNTS = (
    "SELECT (SELECT count(*) FROM areas), (SELECT count(*) FROM assets), (SELECT count(*) FROM incidents)"
)


def test_backup_and_restore_round_trip(
    test_settings: Settings, engine: Engine, demo: int, tmp_path: Path
) -> None:
    file = tmp_path / "wangge.dump"
    store = FileStore(test_settings.photo_root)
    kept = photo(size=(200, 150))
    kept_id = hashlib.sha256(kept).hexdigest()
    store.put(kept_id, "original", kept)
    store.put(kept_id, "display", b"display copy")
    assert backup(test_settings, file) > 1_000_000
    assert (tmp_path / "wangge.dump.photos.tar").is_file()
    with engine.connect() as conn:
        before = conn.execute(text(COUNTS)).one()
    # restore into a second, empty database: the original is not touched
    name = f"wangge_restore_{uuid.uuid4().hex[:8]}"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    elsewhere = tmp_path / "restored-photos"
    target = test_settings.model_copy(
        update={"database_url": test_settings.sqlalchemy_url(name), "photo_dir": elsewhere}
    )
    try:
        restore(target, file)
        assert FileStore(elsewhere).path(kept_id, "original").read_bytes() == kept  # the photos came back
        assert FileStore(elsewhere).path(kept_id, "display").read_bytes() == b"display copy"
        restored = make_engine(target, pool_size=1)
        with restored.connect() as conn:
            assert conn.execute(text(COUNTS)).one() == before
            assert conn.execute(text("SELECT postgis_lib_version()")).scalar()
            with pytest.raises(Exception, match="append-only"):  # triggers came back too
                conn.execute(
                    text("DELETE FROM incident_events WHERE id = (SELECT min(id) FROM incident_events)")
                )
        restored.dispose()
        with pytest.raises(InvalidInput, match="exists"):
            backup(test_settings, file)
        not_a_dump = tmp_path / "x.dump"
        not_a_dump.write_text("hello")
        with pytest.raises(InvalidInput, match="not a pg_dump"):
            restore(target, not_a_dump)
    finally:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
