"""`make backup` / `make restore`: a dump restored into a fresh database holds every table's rows, equal."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from grids.audit import services as audit
from grids.audit.models import Action
from grids.registry import services as registry
from grids.registry.synthetic import mobile, resident_id
from ops import backup as ops_backup
from tests.conftest import build_cast

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# Per table: its row count and a checksum of all its rows (order-independent).
TABLE_SUMS = """
SELECT format(
    'SELECT %L, count(*), md5(coalesce(string_agg(h, %L ORDER BY h), %L))
       FROM (SELECT md5(t::text) AS h FROM %I.%I t) s',
    tablename, ',', '', schemaname, tablename)
FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename
"""


def _url(name: str) -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


def _sums(url: str) -> dict[str, tuple[int, str]]:
    with psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        queries = [row[0] for row in conn.execute(TABLE_SUMS)]
        return {name: (n, digest) for q in queries for name, n, digest in conn.execute(q)}


def _data() -> None:
    cast = build_cast()
    actor = cast.city_admin
    household = registry.household_create(
        actor=actor, plot=cast.plot_a1, number="JS-0001", address="九三村1号"
    )
    resident = registry.resident_create(
        actor=actor, household=household, name="林阿婆", id_number=resident_id(1001), phone=mobile(1001)
    )
    registry.personal_data_reveal(actor=actor, resident=resident, reason="核对身份")
    audit.audit_record(actor=actor, action=Action.CHANGE, obj=cast.cell_a1, node=cast.cell_a1, details={})


def test_backup_restores_into_a_fresh_database_with_every_row_equal(tmp_path: Path):
    _data()
    source = _url(connection.settings_dict["NAME"])
    dump = ops_backup.backup(source, tmp_path, keep=14)
    assert dump.suffix == ".dump" and dump.stat().st_size > 0
    fresh = f"{connection.settings_dict['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    target = _url(fresh)
    try:
        ops_backup.restore(target, dump)
        before, after = _sums(source), _sums(target)
        assert before == after
        assert before["grids_resident"][0] == 1 and before["grids_auditentry"][0] == 1
        # The append-only rule came back with the tables.
        with (
            psycopg.connect(target.replace("postgres://", "postgresql://", 1)) as conn,
            pytest.raises(psycopg.errors.InsufficientPrivilege),
        ):
            conn.execute("DELETE FROM grids_personaldataaccess")
    finally:
        args, env, _ = ops_backup.connection(target)
        subprocess.run(["dropdb", "--if-exists", *args, fresh], env=env, check=True)  # noqa: S603, S607


def test_backup_keeps_the_newest_dumps_only(tmp_path: Path):
    source = _url(connection.settings_dict["NAME"])
    for _ in range(3):
        ops_backup.backup(source, tmp_path, keep=2)
    assert len(list(tmp_path.glob("*.dump"))) == 2


def test_backup_refuses_a_database_other_than_postgresql(tmp_path: Path):
    with pytest.raises(ops_backup.BackupError):
        ops_backup.backup("sqlite:///var/ruian_grid.sqlite3", tmp_path, keep=2)
