"""Every message the mechanisms send, in one module: the only place that knows how people are told.

Each function delivers through the inbox (`teams.inbox`), in the caller's transaction, under a unique
key per recipient (a second call with the same key delivers nothing). Recipients are units (their
members at delivery time) and users, by id.

Supervision (督办) of a late review or an overdue meeting decision is a real `cases.SupervisionOrder`
about that subject (`cases.supervision.order_raise_on_subject`): it shows on the supervision page,
tells the late unit and the issuing office through the inbox, climbs a tier when its reply is late,
and is answered and reviewed like an order on a case. Signing the review off or reporting the
decision done withdraws it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import supervision
from cases.models import SupervisionOrder, Tier
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
        subject=_("Monthly dispute review of %(month)s not signed off by its deadline")
        % {"month": f"{review.month:%Y-%m}"},
        url=reverse("mechanisms:review", args=[review.pk]),
        about=("mechanisms.disputereview", review.pk),
        units=_offices_at([review.node_id]),
    )


REVIEW_SUBJECT = "mechanisms.disputereview"
DECISION_SUBJECT = "mechanisms.decision"


def review_supervise(review: DisputeReview) -> SupervisionOrder | None:
    """Still not signed after the reminder: a supervision order (督办单) from the city (the tier above
    a township; the city supervises its own review too) to the office of the review's grid."""
    offices = _offices_at([review.node_id])
    return supervision.order_raise_on_subject(
        tenant_id=review.tenant_id,
        subject=supervision.OrderSubject(
            kind=REVIEW_SUBJECT,
            id=review.pk,
            label=_("Monthly dispute review of %(month)s not signed off: %(grid)s")
            % {"month": f"{review.month:%Y-%m}", "grid": review.node.name},
            url=reverse("mechanisms:review", args=[review.pk]),
            city_id=review.city_id,
            township_id=review.township_id,
        ),
        tier=Tier.CITY,
        unit_id=min(offices) if offices else None,
    )


def warning_published(warning: SecurityWarning, cell_ids: Iterable[int]) -> None:
    _send(
        tenant_id=warning.tenant_id,
        kind="warning",
        key=f"warning:{warning.pk}",
        subject=_("Security warning: %(title)s") % {"title": warning.title},
        url=reverse("mechanisms:warning", args=[warning.pk]),
        about=("mechanisms.securitywarning", warning.pk),
        units=_offices_at(cell_ids),
    )


def warning_unacknowledged(warning: SecurityWarning, cell_ids: Iterable[int]) -> None:
    _send(
        tenant_id=warning.tenant_id,
        kind="warning_chase",
        key=f"warning_chase:{warning.pk}",
        subject=_("Please acknowledge the security warning: %(title)s") % {"title": warning.title},
        url=reverse("mechanisms:warning", args=[warning.pk]),
        about=("mechanisms.securitywarning", warning.pk),
        units=_offices_at(cell_ids),
    )


def draft_raised(draft: EarlyWarningDraft) -> None:
    _send(
        tenant_id=draft.tenant_id,
        kind="early_warning",
        key=f"draft:{draft.pk}",
        subject=_("An early warning from the data awaits review"),
        url=reverse("mechanisms:draft", args=[draft.pk]),
        about=("mechanisms.earlywarningdraft", draft.pk),
        units=_offices_at([draft.township_id or draft.city_id]),
    )


def meeting_invited(meeting: Meeting, unit_ids: Iterable[int]) -> None:
    _send(
        tenant_id=meeting.tenant_id,
        kind="meeting",
        key=f"meeting:{meeting.pk}",
        subject=_("Meeting notice: %(title)s %(at)s")
        % {"title": meeting.title, "at": f"{timezone.localtime(meeting.starts_at):%Y-%m-%d %H:%M}"},
        url=reverse("mechanisms:meeting", args=[meeting.pk]),
        about=("mechanisms.meeting", meeting.pk),
        units=unit_ids,
    )


def decision_due_soon(decision: Decision) -> None:
    _send(
        tenant_id=decision.tenant_id,
        kind="decision_due",
        key=f"decision_due:{decision.pk}",
        subject=_("A meeting decision is due soon: %(text)s") % {"text": decision.text[:60]},
        url=reverse("mechanisms:meeting", args=[decision.meeting_id]),
        about=("mechanisms.decision", decision.pk),
        units=[decision.owner_id],
    )


def decision_supervise(decision: Decision) -> SupervisionOrder | None:
    """An action item past its deadline: a supervision order to its owner unit from the meeting's
    platform (the township's, or the city's)."""
    meeting = decision.meeting
    return supervision.order_raise_on_subject(
        tenant_id=decision.tenant_id,
        subject=supervision.OrderSubject(
            kind=DECISION_SUBJECT,
            id=decision.pk,
            label=_("Meeting decision overdue: %(text)s") % {"text": decision.text[:120]},
            url=reverse("mechanisms:meeting", args=[decision.meeting_id]),
            city_id=meeting.city_id,
            township_id=meeting.township_id,
        ),
        tier=Tier.TOWNSHIP if meeting.township_id else Tier.CITY,
        unit_id=decision.owner_id,
    )


def supervision_withdraw(*, tenant_id: int, kind: str, subject_id: int) -> int:
    """The late work is done: its open orders stop waiting."""
    return supervision.orders_withdraw_subject(tenant_id=tenant_id, kind=kind, subject_id=subject_id)
