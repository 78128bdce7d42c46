"""The one way any app puts something into people's inboxes.

    from teams import inbox
    inbox.deliver(tenant_id=case.tenant_id, kind="case_sent", recipients=[unit, person],
                  subject=..., url=..., about=("cases.case", case.pk), key=f"case-event:{event.pk}")

Recipients are users and/or units (a unit means its members at delivery time). The key is unique per
recipient, so a retried or duplicated call delivers nothing new (INSERT ... ON CONFLICT DO NOTHING).
Items of kinds a city sends through a channel (e-mail, SMS) also get an outbox row each, in the same
statement on PostgreSQL (the rows the INSERT returned, never a rescan of the moment's items); `teams.delivery.deliveries_send` sends them later.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from .inbox_models import CityChannel, Delivery
from .models import Membership, Unit, User

_BATCH = 5000


@dataclass(frozen=True)
class Notice:
    """One item to deliver: to these users and the members of these units (ids), once per key."""

    subject: str
    url: str
    key: str
    about_id: int | None = None
    users: Sequence[int] = field(default_factory=tuple)
    units: Sequence[int] = field(default_factory=tuple)


def deliver(
    *,
    tenant_id: int,
    kind: str,
    recipients: Iterable[User | Unit | None],
    subject: str,
    url: str = "",
    about: tuple[str, int] | None = None,
    key: str,
) -> int:
    """Deliver one item to users and units' members; returns how many new inbox rows were written."""
    users = tuple(r.pk for r in recipients if isinstance(r, User))
    units = tuple(r.pk for r in recipients if isinstance(r, Unit))
    about_type, about_id = about if about else ("", None)
    notice = Notice(subject=subject, url=url, key=key, about_id=about_id, users=users, units=units)
    return deliver_many(tenant_id=tenant_id, kind=kind, about_type=about_type, notices=[notice])


def deliver_many(
    *,
    tenant_id: int,
    kind: str,
    about_type: str,
    notices: Sequence[Notice],
    now: dt.datetime | None = None,
) -> int:
    """Deliver many items of one kind at once (a set-based caller such as the deadline scan).

    Units become their members with one query; rows go in by the thousand with ON CONFLICT DO
    NOTHING; then the outbox rows for the city's channels. Returns the new inbox rows.
    """
    if not notices:
        return 0
    now = now or timezone.now()
    unit_ids = {u for n in notices for u in n.units}
    members: dict[int, list[int]] = {}
    if unit_ids:
        rows = Membership.objects.filter(
            unit_id__in=unit_ids, unit__tenant_id=tenant_id, user__is_active=True
        ).values_list("unit_id", "user_id")
        for unit_id, user_id in rows:
            members.setdefault(unit_id, []).append(user_id)
    tenant_users = _active_users(tenant_id, {u for n in notices for u in n.users})
    rows_out: list[tuple[int, str, str, str, int | None, str]] = []
    for n in notices:
        seen: set[int] = set()
        for user_id in (
            *[u for u in n.users if u in tenant_users],
            *[m for u in n.units for m in members.get(u, ())],
        ):
            if user_id in seen:
                continue
            seen.add(user_id)
            rows_out.append((user_id, n.subject[:200], n.url[:300], n.key[:120], n.about_id, ""))
    written = 0
    with transaction.atomic():
        for start in range(0, len(rows_out), _BATCH):
            written += _insert(tenant_id, kind, about_type, rows_out[start : start + _BATCH], now)
    return written


def deliver_cte(source: str) -> str:
    """The WITH-clauses that deliver, inside a caller's own statement (PostgreSQL), the notices of
    its CTE `source`: one row per notice with columns kind, about_type, subject, url, key, about_id,
    users (bigint[]) and units (bigint[]). The same rules as `deliver_many`: users of the city who are
    active, the active members of the units, once per (user, key), and the outbox rows of the items
    written. Binds %(inbox_tenant)s and %(inbox_now)s; count the items with
    ``SELECT count(*) FROM {source}_item``.

    For a set-based caller (the deadline scan): the items come from rows the statement itself
    writes, with no list of notices going through Python."""
    return f"""
    {source}_to AS (
        -- Each notice once per user: the users named, then the units' members. No join back to the
        -- notices (a join between two CTEs may be planned as a nested loop, quadratic in their rows).
        SELECT n.kind, n.about_type, LEFT(n.subject, 200) AS subject, LEFT(n.url, 300) AS url,
            LEFT(n.key, 120) AS key, n.about_id, u.id AS user_id
        FROM {source} n CROSS JOIN unnest(n.users) AS x(user_id)
        JOIN teams_user u ON u.id = x.user_id AND u.tenant_id = %(inbox_tenant)s AND u.is_active
        UNION
        SELECT n.kind, n.about_type, LEFT(n.subject, 200), LEFT(n.url, 300), LEFT(n.key, 120), n.about_id,
            u.id
        FROM {source} n CROSS JOIN unnest(n.units) AS x(unit_id)
        JOIN teams_membership m ON m.unit_id = x.unit_id
        JOIN teams_unit un ON un.id = m.unit_id AND un.tenant_id = %(inbox_tenant)s
        JOIN teams_user u ON u.id = m.user_id AND u.is_active
    ), {source}_item AS (
        INSERT INTO teams_inboxitem
            (tenant_id, user_id, kind, subject, url, about_type, about_id, key, created_at, read_at)
        SELECT %(inbox_tenant)s, user_id, kind, subject, url, about_type, about_id, key, %(inbox_now)s, NULL
        FROM {source}_to
        ON CONFLICT DO NOTHING
        RETURNING id, tenant_id, kind, created_at
    ), {source}_outbox AS (
        INSERT INTO teams_delivery
            (tenant_id, item_id, channel, status, attempts, next_attempt_at, last_error, created_at)
        SELECT i.tenant_id, i.id, c.channel, 'pending', 0, i.created_at, '', i.created_at
        FROM {source}_item i
        JOIN teams_citychannel c ON c.tenant_id = i.tenant_id AND c.is_active
        WHERE c.kinds = '' OR (',' || c.kinds || ',') LIKE ('%%,' || i.kind || ',%%')
        ON CONFLICT DO NOTHING
    )"""  # noqa: S608


def _active_users(tenant_id: int, ids: set[int]) -> set[int]:
    if not ids:
        return set()
    return set(
        User.objects.filter(pk__in=ids, tenant_id=tenant_id, is_active=True).values_list("pk", flat=True)
    )


def _insert(
    tenant_id: int,
    kind: str,
    about_type: str,
    rows: list[tuple[int, str, str, str, int | None, str]],
    now: dt.datetime,
) -> int:
    if connection.vendor == "postgresql":
        # One statement per batch: arrays in, ON CONFLICT on (user, key) out.
        with connection.cursor() as cursor:
            cursor.execute(
                """
                WITH item AS (
                    INSERT INTO teams_inboxitem
                        (tenant_id, user_id, kind, subject, url, about_type, about_id, key, created_at, read_at)
                    SELECT %s, r.user_id, %s, r.subject, r.url, %s, r.about_id, r.key, %s, NULL
                    FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::bigint[])
                        AS r(user_id, subject, url, key, about_id)
                    ON CONFLICT DO NOTHING
                    RETURNING id, tenant_id, kind, created_at
                ), outbox AS (
                    -- The outbox rows of the items just written (none when the city has no channel).
                    INSERT INTO teams_delivery
                        (tenant_id, item_id, channel, status, attempts, next_attempt_at, last_error, created_at)
                    SELECT i.tenant_id, i.id, c.channel, 'pending', 0, i.created_at, '', i.created_at
                    FROM item i
                    JOIN teams_citychannel c ON c.tenant_id = i.tenant_id AND c.is_active
                    WHERE c.kinds = '' OR (',' || c.kinds || ',') LIKE ('%%,' || i.kind || ',%%')
                    ON CONFLICT DO NOTHING
                )
                SELECT count(*) FROM item
                """,
                [
                    tenant_id,
                    kind,
                    about_type,
                    now,
                    [r[0] for r in rows],
                    [r[1] for r in rows],
                    [r[2] for r in rows],
                    [r[3] for r in rows],
                    [r[4] for r in rows],
                ],
            )
            return int(cursor.fetchone()[0])
    # SQLite: multi-row INSERTs (within its bound-variable limit) returning the ids written, then
    # the outbox rows of exactly those items.
    written: list[int] = []
    stamp = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 100):
            chunk = rows[start : start + 100]
            params: list[Any] = []
            for user_id, subject, url, key, about_id, _unused in chunk:
                params += [tenant_id, user_id, kind, subject, url, about_type, about_id, key, stamp]
            values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, NULL)"] * len(chunk))
            columns = "tenant_id, user_id, kind, subject, url, about_type, about_id, key, created_at, read_at"
            sql = (
                f"INSERT INTO teams_inboxitem ({columns}) VALUES {values} ON CONFLICT DO NOTHING RETURNING id"  # noqa: S608
            )
            cursor.execute(sql, params)
            written += [row[0] for row in cursor.fetchall()]
    _outbox(tenant_id, kind, written, now)
    return len(written)


def _outbox(tenant_id: int, kind: str, item_ids: list[int], now: dt.datetime) -> None:
    """One outbox row per new item and active channel of the city that sends this kind."""
    channels = [
        channel
        for channel, kinds in CityChannel.objects.filter(tenant_id=tenant_id, is_active=True).values_list(
            "channel", "kinds"
        )
        if not kinds or kind in kinds.split(",")
    ]
    if not item_ids or not channels:
        return
    Delivery.objects.bulk_create(
        [
            Delivery(
                tenant_id=tenant_id, item_id=item_id, channel=channel, next_attempt_at=now, created_at=now
            )
            for item_id in item_ids
            for channel in channels
        ],
        ignore_conflicts=True,
    )
