"""Every message the mechanisms send, in one module: the only place that knows how people are told.

Each function delivers through the inbox (`teams.inbox`), in the caller's transaction, under a unique
key per recipient (a second call with the same key delivers nothing). Recipients are units (their
members at delivery time) and users, by id.

Supervision (督办) of a late review or an overdue meeting decision is an inbox item of kind
`supervision_order` to the late unit and to the supervising tier's office: `cases.SupervisionOrder`
is bound to a case (its `case` is required), and a review or a decision is not a case.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.urls import reverse

from teams import inbox
from teams.models import Unit

if TYPE_CHECKING:
    from .models import Decision, DisputeReview, EarlyWarningDraft, Meeting, SecurityWarning


def _send(
    *,
    tenant_id: int,
    kind: str,
    key: str,
    subject: str,
    url: str,
    about: tuple[str, int],
    units: Iterable[int] = (),
    users: Iterable[int] = (),
) -> int:
    notice = inbox.Notice(
        subject=subject[:200],
        url=url,
        key=f"mechanisms.{key}",
        about_id=about[1],
        users=tuple(sorted(set(users))),
        units=tuple(sorted(set(units))),
    )
    return inbox.deliver_many(tenant_id=tenant_id, kind=kind, about_type=about[0], notices=[notice])


def _offices_at(node_ids: Iterable[int]) -> list[int]:
    """The active offices standing at these grid nodes (their members are told)."""
    return list(Unit.objects.filter(node_id__in=list(node_ids), is_active=True).values_list("pk", flat=True))


def review_late(review: DisputeReview) -> None:
    """The month's review was not signed off by its deadline: remind the node's office (催办)."""
    _send(
        tenant_id=review.tenant_id,
        kind="review_late",
        key=f"review_late:{review.pk}",
        subject=f"{review.month:%Y-%m} 矛盾纠纷月度研判逾期未签发",
        url=reverse("mechanisms:review", args=[review.pk]),
        about=("mechanisms.disputereview", review.pk),
        units=_offices_at([review.node_id]),
    )


def review_supervise(review: DisputeReview) -> None:
    """Still not signed after the reminder: a supervision order (督办) from the tier above."""
    above = review.city_id if review.township_id else review.node_id
    _send(
        tenant_id=review.tenant_id,
        kind="supervision_order",
        key=f"review_supervise:{review.pk}",
        subject=f"督办：{review.month:%Y-%m} 矛盾纠纷月度研判未签发",
        url=reverse("mechanisms:review", args=[review.pk]),
        about=("mechanisms.disputereview", review.pk),
        units=_offices_at([review.node_id, above]),
    )


def warning_published(warning: SecurityWarning, cell_ids: Iterable[int]) -> None:
    _send(
        tenant_id=warning.tenant_id,
        kind="warning",
        key=f"warning:{warning.pk}",
        subject=f"治安预警：{warning.title}",
        url=reverse("mechanisms:warning", args=[warning.pk]),
        about=("mechanisms.securitywarning", warning.pk),
        units=_offices_at(cell_ids),
    )


def warning_unacknowledged(warning: SecurityWarning, cell_ids: Iterable[int]) -> None:
    _send(
        tenant_id=warning.tenant_id,
        kind="warning_chase",
        key=f"warning_chase:{warning.pk}",
        subject=f"请签收治安预警：{warning.title}",
        url=reverse("mechanisms:warning", args=[warning.pk]),
        about=("mechanisms.securitywarning", warning.pk),
        units=_offices_at(cell_ids),
    )


def draft_raised(draft: EarlyWarningDraft) -> None:
    _send(
        tenant_id=draft.tenant_id,
        kind="early_warning",
        key=f"draft:{draft.pk}",
        subject="数据预警待研判",
        url=reverse("mechanisms:draft", args=[draft.pk]),
        about=("mechanisms.earlywarningdraft", draft.pk),
        units=_offices_at([draft.township_id or draft.city_id]),
    )


def meeting_invited(meeting: Meeting, unit_ids: Iterable[int]) -> None:
    _send(
        tenant_id=meeting.tenant_id,
        kind="meeting",
        key=f"meeting:{meeting.pk}",
        subject=f"会议通知：{meeting.title} {meeting.starts_at:%Y-%m-%d %H:%M}",
        url=reverse("mechanisms:meeting", args=[meeting.pk]),
        about=("mechanisms.meeting", meeting.pk),
        units=unit_ids,
    )


def decision_due_soon(decision: Decision) -> None:
    _send(
        tenant_id=decision.tenant_id,
        kind="decision_due",
        key=f"decision_due:{decision.pk}",
        subject=f"会议决定即将到期：{decision.text[:60]}",
        url=reverse("mechanisms:meeting", args=[decision.meeting_id]),
        about=("mechanisms.decision", decision.pk),
        units=[decision.owner_id],
    )


def decision_supervise(decision: Decision) -> None:
    """An action item past its deadline: overdue, and a supervision order to its owner unit."""
    _send(
        tenant_id=decision.tenant_id,
        kind="supervision_order",
        key=f"decision_overdue:{decision.pk}",
        subject=f"督办：会议决定逾期未完成：{decision.text[:60]}",
        url=reverse("mechanisms:meeting", args=[decision.meeting_id]),
        about=("mechanisms.decision", decision.pk),
        units=[decision.owner_id],
    )
