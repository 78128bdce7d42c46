"""The residents' satisfaction survey (安全感满意度测评): use cases, reads and the index (decision 1303).

Use cases (one transaction each, the city's administrators only, an audit entry each): create a
survey with its questions, open it (every cell of the city gets an unguessable link), close it.

A resident's answer (`response_submit`) comes from a public page, without signing in. It is refused
with a message in Chinese and nothing written when the survey is closed (or its period is over), when
this phone already answered (the database's unique constraint on the survey and the keyed hash of
the phone's cookie decides, not a check before the write), when the page's signed form token is
forged, too fresh (a person takes a few seconds to answer) or too old, when the hidden honeypot field
is filled, or when one network address sent too many answers lately (counted in the cache under a
keyed hash of the address, never the address; with the cache down the limit opens, like the API's).

The index of a node (0-100): each answer's points are the mean of its 1-5 answers mapped to 0-100
((v - 1) / 4 x 100); a node's index is the mean of its answers' points. Fewer than
`SURVEY_MIN_RESPONSES` answers: 'insufficient data', no index. Computed by one GROUP BY over the
answers' ancestor columns for all children at once (`index_by_child`); the dashboards and the
assessment read the same sums (`IndexSums`).
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, QuerySet, Sum
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from grids import scoping, tree
from grids.models import GridNode, Level, Tenant

from .survey_models import (
    SCALE,
    SURVEY_MIN_RESPONSES,
    QuestionKind,
    Survey,
    SurveyLink,
    SurveyQuestion,
    SurveyResponse,
    SurveyStatus,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from teams.models import User

MANAGE = "manage_grid"  # the city's survey is set by those who manage the city grid
VIEW = scoping.VIEW
MAX_QUESTIONS = 20
FORM_SALT = "reports.survey.form"
FORM_MIN_SECONDS = 3  # a person reads and taps for longer than this
FORM_MAX_SECONDS = 2 * 3600
DEVICE_COOKIE = "rg_survey_device"
DEVICE_COOKIE_AGE = 400 * 24 * 3600
RATE_WINDOW = 600  # seconds
HONEYPOT = "website"


class SurveyRefused(Exception):
    """An answer refused; `message` is for the resident (Chinese), `status` the HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


# --- reads ---------------------------------------------------------------------------------------


def surveys_visible(actor: User | AnonymousUser) -> QuerySet[Survey]:
    """The surveys of the actor's city, for anyone holding a grid grant there (a township sees its
    own cells' links and results inside them: `links_in_scope`, `index_by_child`)."""
    if scoping.is_unrestricted(actor):
        return Survey.objects.all()
    tenant_id = scoping.tenant_of(actor)
    if tenant_id is None or not scoping.grants(actor, VIEW):
        return Survey.objects.none()
    return Survey.objects.filter(tenant_id=tenant_id)


def survey_list(actor: User | AnonymousUser) -> QuerySet[Survey]:
    """Newest first, each with its question count (one query)."""
    return surveys_visible(actor).annotate(n_questions=Count("questions")).order_by("-period_start", "-id")


def questions_of(survey: Survey) -> list[SurveyQuestion]:
    return list(survey.questions.order_by("order", "id"))


def links_in_scope(actor: User | AnonymousUser, survey: Survey, node: GridNode) -> QuerySet[SurveyLink]:
    """The links of the cells under `node` (fetched in scope) the actor may see, in the tree's order."""
    column = scoping.LEVEL_COLUMN[Level(node.level)]
    return (
        scoping.scope_rows(actor, VIEW, SurveyLink.objects.filter(survey=survey))
        .filter(**{column: node.pk})
        .select_related("node")
        .order_by("node__tree_id", "node__lft")
    )


def link_for_token(token: str) -> SurveyLink | None:
    """The public page's only read: a link by its token, with its survey and cell (one query)."""
    if not token or len(token) > 64:
        return None
    return SurveyLink.objects.select_related("survey", "node").filter(token=token).first()


@dataclass
class IndexSums:
    """Answers and the sum of their points: additive, so a parent's index is its children's sums."""

    responses: int = 0
    points: float = 0.0

    @property
    def insufficient(self) -> bool:
        return self.responses < SURVEY_MIN_RESPONSES

    @property
    def index(self) -> float | None:
        if self.insufficient or not self.responses:
            return None
        return round(self.points / self.responses, 1)

    def add(self, other: IndexSums) -> None:
        self.responses += other.responses
        self.points += other.points


def index_sums(qs: QuerySet[SurveyResponse], *group: str) -> Any:
    """One GROUP BY over already scoped answers: rows of the group's columns, `n` and `points`."""
    return qs.order_by().values(*group).annotate(n=Count("pk"), pts=Sum("points"))


@dataclass
class IndexTable:
    node: GridNode
    total: IndexSums
    children: list[tuple[GridNode, IndexSums]]


def index_by_child(actor: User | AnonymousUser, survey: Survey, node: GridNode) -> IndexTable:
    """Per child of `node` (fetched in scope) the answers and the index, and the node's total: two
    queries (the children in scope; the answers grouped by the children's ancestor column)."""
    child = scoping.LEVEL_COLUMN[Level(node.level + 1)] if node.level < Level.CELL else None
    column = scoping.LEVEL_COLUMN[Level(node.level)]
    children = (
        list(scoping.scope_nodes(actor).filter(parent=node).order_by(*scoping.TREE_ORDER)) if child else []
    )
    answers = scoping.scope_rows(actor, VIEW, SurveyResponse.objects.filter(survey=survey)).filter(
        tenant_id=node.tenant_id, **{column: node.pk}
    )
    sums: dict[int | None, IndexSums] = {c.pk: IndexSums() for c in children}
    total = IndexSums()
    for r in index_sums(answers, *([child] if child else [])):
        part = IndexSums(r["n"], float(r["pts"] or 0))
        total.add(part)
        if child and r[child] in sums:
            sums[r[child]].add(part)
    return IndexTable(node=node, total=total, children=[(c, sums[c.pk]) for c in children])


def index_dict(sums: IndexSums) -> dict[str, Any]:
    return {"responses": sums.responses, "index": sums.index, "insufficient": sums.insufficient}


# --- the city's use cases ---------------------------------------------------------------------------


def _require_city(actor: User, tenant_id: int) -> GridNode:
    root = tree.tenant_root(tenant_id)
    if not scoping.can_now(actor, MANAGE, root):
        raise PermissionDenied(_("Only the city's administrators set the satisfaction survey."))
    return root


def _audit(actor: User, survey: Survey, action: str, root: GridNode, fields: list[str]) -> None:
    from grids.audit.services import audit_record

    audit_record(actor=actor, action=action, obj=survey, node=root, details={"fields": fields})


def survey_create(
    *,
    actor: User,
    tenant: Tenant,
    title: str,
    period_start: dt.date,
    period_end: dt.date,
    questions: Sequence[dict[str, Any]],
) -> Survey:
    """A draft survey with its questions (text, kind). Refused, nothing written: no title, a period
    ending before it starts, no question, a question without text or of an unknown kind, a title the
    city already used."""
    root = _require_city(actor, tenant.pk)
    errors: dict[str, list[str]] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = [_("Give the survey a title.")]
    elif len(title) > 100:
        errors["title"] = [_("At most %(n)d characters.") % {"n": 100}]
    if period_end < period_start:
        errors["period_end"] = [_("The period cannot end before it starts.")]
    cleaned: list[tuple[str, str]] = []
    for q in questions:
        text, kind = str(q.get("text") or "").strip(), q.get("kind")
        if not text:
            continue
        if len(text) > 200 or kind not in QuestionKind.values:
            errors["questions"] = [_("Each question needs a text of at most 200 characters and a scale.")]
            break
        cleaned.append((text, str(kind)))
    if not cleaned and "questions" not in errors:
        errors["questions"] = [_("Ask at least one question.")]
    if len(cleaned) > MAX_QUESTIONS:
        errors["questions"] = [_("At most %(n)d questions.") % {"n": MAX_QUESTIONS}]
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            survey = Survey.objects.create(
                tenant=tenant, title=title, period_start=period_start, period_end=period_end, created_by=actor
            )
            SurveyQuestion.objects.bulk_create(
                SurveyQuestion(survey=survey, text=text, kind=kind, order=i)
                for i, (text, kind) in enumerate(cleaned, start=1)
            )
            _audit(actor, survey, "add", root, ["title", "period_start", "period_end", "questions"])
    except IntegrityError as exc:
        raise ValidationError({"title": [_("The city already has a survey of this title.")]}) from exc
    return survey


def survey_open(*, actor: User, survey: Survey) -> Survey:
    """Open a draft survey (or open a closed one again): every cell of the city gets its link; links
    already given are kept, so printed QR codes stay valid. Opening an open survey changes nothing."""
    root = _require_city(actor, survey.tenant_id)
    with transaction.atomic():
        survey = Survey.objects.select_for_update().get(pk=survey.pk)
        if survey.status == SurveyStatus.OPEN:
            return survey
        if not survey.questions.exists():
            raise ValidationError(_("Ask at least one question."))
        cells = GridNode.objects.filter(tenant_id=survey.tenant_id, level=Level.CELL).values_list(
            "pk", "parent_id"
        )
        SurveyLink.objects.bulk_create(
            [
                SurveyLink(
                    survey=survey,
                    node_id=cell,
                    tenant_id=survey.tenant_id,
                    city=root,
                    township_id=township,
                    cell_id=cell,
                    token=secrets.token_urlsafe(24),
                )
                for cell, township in cells
            ],
            batch_size=1000,
            ignore_conflicts=True,
        )
        survey.status = SurveyStatus.OPEN
        survey.opened_at = timezone.now()
        survey.save(update_fields=["status", "opened_at"])
        _audit(actor, survey, "change", root, ["status"])
    return survey


def survey_close(*, actor: User, survey: Survey) -> Survey:
    """Close the survey: its links refuse every later answer."""
    root = _require_city(actor, survey.tenant_id)
    with transaction.atomic():
        survey = Survey.objects.select_for_update().get(pk=survey.pk)
        if survey.status != SurveyStatus.OPEN:
            raise ValidationError(_("Only an open survey can be closed."))
        survey.status = SurveyStatus.CLOSED
        survey.closed_at = timezone.now()
        survey.save(update_fields=["status", "closed_at"])
        _audit(actor, survey, "change", root, ["status"])
    return survey


# --- the residents' answers ------------------------------------------------------------------------


def is_open(survey: Survey, today: dt.date | None = None) -> bool:
    today = today or timezone.localdate()
    return survey.status == SurveyStatus.OPEN and survey.period_start <= today <= survey.period_end


def new_device_token() -> str:
    return secrets.token_urlsafe(32)


def device_hash(survey_id: int, device: str) -> str:
    """A keyed hash of the survey and the phone's cookie: the same phone gives another hash in another
    survey, and without the server's key nobody can tell which cookie gave which hash."""
    return salted_hmac("reports.survey.device", f"{survey_id}:{device}", algorithm="sha256").hexdigest()


def form_token(link: SurveyLink, *, now: float | None = None) -> str:
    """The signed, time-stamped token a page carries: it names the link and when the page was made."""
    issued = int(time.time() if now is None else now)
    return signing.dumps({"l": link.pk, "t": issued}, salt=FORM_SALT)


def _check_form(link: SurveyLink, value: str, now: float) -> None:
    try:
        data = signing.loads(value or "", salt=FORM_SALT, max_age=FORM_MAX_SECONDS)
    except signing.SignatureExpired as exc:
        raise SurveyRefused(
            _("This page was open too long. Please open the survey again and answer.")
        ) from exc
    except signing.BadSignature as exc:
        raise SurveyRefused(
            _("This answer did not come from the survey page. Please open the link again.")
        ) from exc
    if not isinstance(data, dict) or data.get("l") != link.pk or not isinstance(data.get("t"), int):
        raise SurveyRefused(_("This answer did not come from the survey page. Please open the link again."))
    age = now - data["t"]
    if age > FORM_MAX_SECONDS:
        raise SurveyRefused(_("This page was open too long. Please open the survey again and answer."))
    if age < FORM_MIN_SECONDS:
        raise SurveyRefused(_("That was too quick. Please read the questions and submit again in a moment."))


def _rate_limited(address: str | None) -> bool:
    """Count one answer from this address; True past the limit. Only a keyed hash of the address is
    kept, and only for the window. The cache fails soft: a cache that is down limits nothing."""
    if not address:
        return False
    limit = int(getattr(settings, "SURVEY_ANSWERS_PER_ADDRESS", 60))
    key = "survey-rate:" + salted_hmac("reports.survey.address", address, algorithm="sha256").hexdigest()[:32]
    try:
        cache.add(key, 0, RATE_WINDOW)
        count = cache.incr(key)
    except ValueError:  # the key vanished (expired, or a cache that dropped the write)
        return False
    return bool(count > limit)


def answer_points(values: list[int]) -> float:
    """One answer's points (0-100): the mean of its 1-5 answers, each (v - 1) x 25."""
    return round(sum((v - 1) * 25.0 for v in values) / len(values), 2)


def response_submit(
    *,
    link: SurveyLink,
    device: str | None,
    form: str,
    honeypot: str,
    answers: dict[str, str],
    address: str | None,
    now: float | None = None,
) -> SurveyResponse:
    """One phone's anonymous answer to the survey of `link`, or `SurveyRefused` with nothing written.

    `answers` maps `q<question id>` to "1".."5"; `device` is the phone's cookie; `address` the
    client's network address, used only to count (hashed) and never stored."""
    now = time.time() if now is None else now
    survey = link.survey
    if _rate_limited(address):
        raise SurveyRefused(
            _("Too many answers came from your network just now. Please try again later."), 429
        )
    if not is_open(survey):
        raise SurveyRefused(_("This survey is closed and takes no more answers. Thank you."), 410)
    if honeypot:
        raise SurveyRefused(_("This answer did not come from the survey page. Please open the link again."))
    _check_form(link, form, now)
    if not device or len(device) > 100:
        raise SurveyRefused(_("Please allow this site to keep a cookie, then open the survey link again."))
    questions = questions_of(survey)
    values: dict[str, int] = {}
    for q in questions:
        raw = (answers.get(f"q{q.pk}") or "").strip()
        if raw not in {str(v) for v in SCALE}:
            raise SurveyRefused(_("Please answer every question (1 to 5)."))
        values[str(q.pk)] = int(raw)
    try:
        with transaction.atomic():
            return SurveyResponse.objects.create(
                survey=survey,
                tenant_id=link.tenant_id,
                city_id=link.city_id,
                township_id=link.township_id,
                cell_id=link.cell_id,
                answered_on=timezone.localdate(),
                answers=values,
                points=answer_points(list(values.values())),
                device_hash=device_hash(survey.pk, device),
            )
    except IntegrityError as exc:
        raise SurveyRefused(_("This phone has already answered this survey. Thank you."), 409) from exc
