"""The residents' sense-of-safety and satisfaction survey (安全感满意度测评): rows only; every change goes
through `reports.survey`.

The city sets a questionnaire for a period; opening it gives every cell an unguessable link that
residents open on their phones without signing in. An answer stores no personal data: the cell it was
given for, the day, the answers and their points, and a keyed hash of the phone's random cookie *and
the survey* (`device_hash`), unique per survey, so the database itself refuses a second answer from
the same phone while nobody can tell which phone answered, nor link one phone's answers across
surveys (decision 1303).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids.models import GridNode, GridScoped, Tenant

# A node's index rests on at least this many answers, or it is shown as 'insufficient data'.
SURVEY_MIN_RESPONSES = 10
SCALE = (1, 2, 3, 4, 5)


class SurveyStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    OPEN = "open", _("open for answers")
    CLOSED = "closed", _("closed to answers")


class QuestionKind(models.TextChoices):
    """Every question is answered on a scale of 1 to 5; the kind names the scale's words."""

    SAFETY = "safety", _("sense of safety (very unsafe … very safe)")
    SATISFACTION = "satisfaction", _("satisfaction (very dissatisfied … very satisfied)")


class Survey(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", verbose_name=_("tenant"))
    title = models.CharField(_("title"), max_length=100)
    period_start = models.DateField(_("answers from"))
    period_end = models.DateField(_("answers until (inclusive)"))
    status = models.CharField(
        _("status"), max_length=10, choices=SurveyStatus.choices, default=SurveyStatus.DRAFT
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        ordering = ["-period_start", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "title"], name="reports_survey_title_unique"),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="reports_survey_period_order"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class SurveyQuestion(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    text = models.CharField(_("question"), max_length=200)
    kind = models.CharField(_("scale"), max_length=12, choices=QuestionKind.choices)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("survey question")
        verbose_name_plural = _("survey questions")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.text


class SurveyLink(GridScoped):
    """A cell's link to an open survey: the token is the only thing a resident's phone presents."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="links")
    node = models.ForeignKey(GridNode, on_delete=models.PROTECT, related_name="+", verbose_name=_("cell"))
    token = models.CharField(_("link token"), max_length=43, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("survey link")
        verbose_name_plural = _("survey links")
        constraints = [models.UniqueConstraint(fields=["survey", "node"], name="reports_surveylink_once")]
        indexes = [models.Index(fields=["survey", "township"], name="reports_surveylink_township")]

    def __str__(self) -> str:
        return f"{self.survey_id}/{self.node_id}"


class SurveyResponse(GridScoped):
    """One phone's anonymous answer: no name, phone, address, time of day or network address."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    answered_on = models.DateField(_("answered on"))
    answers = models.JSONField(_("answers (question id: 1-5)"))
    points = models.FloatField(_("index points (0-100)"))
    device_hash = models.CharField(_("keyed hash of the phone's cookie and the survey"), max_length=64)

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        constraints = [
            models.UniqueConstraint(fields=["survey", "device_hash"], name="reports_survey_one_per_phone"),
            models.CheckConstraint(condition=Q(points__gte=0, points__lte=100), name="reports_survey_points"),
        ]
        indexes = [
            models.Index(fields=["tenant", "township", "answered_on"], name="reports_sresp_township_day"),
            models.Index(fields=["survey", "township"], name="reports_sresp_survey_township"),
            models.Index(fields=["survey", "cell"], name="reports_sresp_survey_cell"),
        ]

    def __str__(self) -> str:
        return f"{self.survey_id}/{self.pk}"
