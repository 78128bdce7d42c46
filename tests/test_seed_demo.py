"""seed_demo: the Ruian demo city with its counts, a second city, demo users; idempotent."""

import random
from io import StringIO

from django.core.management import call_command
from django.db.models import Count

from cases.models import Case
from grids import scoping, tree
from grids.models import GridNode, Household, Kind, Resident, Tenant
from ruian_grid import demo
from teams.models import Unit, UnitKind, User

from .planner import analyzed_rows


def test_seed_demo_builds_the_cities_and_a_second_run_changes_nothing(db, client):
    """One seeding (it takes seconds) checked from every side, then seeded again."""
    out = StringIO()
    call_command("seed_demo", stdout=out)
    ruian_has_the_four_levels_in_their_published_counts()
    households_are_about_150_a_plot_in_the_sample_townships()
    demo_users_sign_in_at_each_tier_and_the_second_city_is_apart(out.getvalue(), client)
    units_cases_and_residents_are_there()
    demo_members_land_on_real_work()
    statistics_are_fresh()
    each_mechanism_has_demo_rows()
    dashboards_read_past_months_from_the_summary()
    second_run_changes_nothing()


def ruian_has_the_four_levels_in_their_published_counts():
    ruian = Tenant.objects.get(code="330381")
    kinds = dict(
        GridNode.objects.filter(tenant=ruian)
        .order_by()
        .values("kind")
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )
    assert kinds[Kind.CITY] == 1
    assert (kinds[Kind.STREET], kinds[Kind.TOWN], kinds[Kind.DEVZONE]) == (6, 31, 1)
    assert (kinds[Kind.VILLAGE], kinds[Kind.COMMUNITY], kinds[Kind.ENTERPRISE]) == (910, 28, 196)
    assert 2500 <= kinds[Kind.PLOT] <= 2700
    assert tree.tree_is_valid(ruian)
    # Names from the programme's reports, at their places.
    assert GridNode.objects.get(tenant=ruian, code="330381127").name == "马屿镇"
    assert GridNode.objects.get(tenant=ruian, name="九三村").parent.name == "上望街道"
    assert set(
        GridNode.objects.filter(
            tenant=ruian, parent__name="林垟镇", name__in=["林北村", "林西村"]
        ).values_list("name", flat=True)
    ) == {"林北村", "林西村"}
    # Every plot has a named responsible person.
    assert not GridNode.objects.filter(tenant=ruian, kind=Kind.PLOT, responsible__isnull=True).exists()


def households_are_about_150_a_plot_in_the_sample_townships():
    ruian = Tenant.objects.get(code="330381")
    shangwang = GridNode.objects.get(tenant=ruian, name="上望街道")
    plots = GridNode.objects.filter(scoping.descendants_q(shangwang), kind=Kind.PLOT).count()
    households = Household.objects.filter(township=shangwang).count()
    assert 120 <= households / plots <= 180
    assert not Household.objects.filter(township__name="塘下镇").exists()  # only the sample by default


def units_cases_and_residents_are_there():
    ruian = Tenant.objects.get(code="330381")
    assert Case.objects.filter(tenant=ruian, source_ref__startswith="demo-").count() == 120
    # Two years of closed past cases for the dashboards, and a published assessment round.
    assert Case.objects.filter(tenant=ruian, source_ref__startswith="hist-", status="closed").count() > 1000
    from reports.models import Round, Scorecard

    published = Round.objects.get(tenant=ruian, status="published")
    assert Scorecard.objects.filter(round=published, unit__isnull=False).count() == 38
    assert Scorecard.objects.filter(round=published, rank__isnull=False).exists()
    # The member departments' scorecards, ranked apart, fed by their yearly work reports.
    from reports.models import WorkReport

    departments = Scorecard.objects.filter(round=published, department__isnull=False)
    assert departments.count() == Unit.objects.filter(tenant=ruian, kind=UnitKind.DEPARTMENT).count()
    assert departments.filter(rank=1).count() == 1
    assert WorkReport.objects.filter(tenant=ruian, status="scored").count() >= 7
    # The residents' survey is open with answers, and the round scores its index for every township.
    from reports.models import Line, SurveyResponse

    assert SurveyResponse.objects.filter(tenant=ruian).count() > 1134 * 4
    survey_lines = Line.objects.filter(scorecard__round=published, indicator__source="survey_index")
    assert survey_lines.count() == 38 and not survey_lines.filter(insufficient=True).exists()
    assert Unit.objects.filter(tenant=ruian, kind=UnitKind.DEPARTMENT).count() >= 8
    assert Resident.objects.filter(tenant=ruian, cell__name="九三村").exists()
    police = User.objects.get(username="dept_police")
    assert not scoping.scope_nodes(police).exists()  # no grid: only the cases sent to the department


def statistics_are_fresh():
    """The seed ends with ANALYZE of what it filled: the planner knows the tables' real sizes."""
    for model in (GridNode, Household, Resident, Case, User):
        assert analyzed_rows(model._meta.db_table) == model.objects.count(), model


def dashboards_read_past_months_from_the_summary():
    from reports import summary
    from reports.models import MonthlyFigure

    ruian = Tenant.objects.get(code="330381")
    root = tree.tenant_root(ruian)
    assert MonthlyFigure.objects.filter(node=root).count() == summary.MONTHS  # every month marked
    assert MonthlyFigure.objects.filter(tenant=ruian, level=1).exists()  # the history's figures


def _mechanism_counts() -> tuple[int, ...]:
    from mechanisms import models as m

    tables = (
        m.DisputeReview,
        m.SecurityWarning,
        m.Meeting,
        m.Decision,
        m.InfoPost,
        m.Patrol,
        m.Campaign,
        m.Milestone,
    )
    return tuple(model.objects.count() for model in tables)


def each_mechanism_has_demo_rows():
    # 39 reviews (the city and its 38 townships), and at least one row of every other mechanism.
    counts = _mechanism_counts()
    assert counts[0] == 39 and all(counts), counts


def second_run_changes_nothing():
    mechanisms_before = _mechanism_counts()
    counts = (GridNode.objects.count(), Household.objects.count(), User.objects.count(), Case.objects.count())
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert (
        GridNode.objects.count(),
        Household.objects.count(),
        User.objects.count(),
        Case.objects.count(),
    ) == counts
    assert _mechanism_counts() == mechanisms_before
    assert "Households added: 0; residents added: 0; units added: 0; cases added: 0" in out.getvalue()


def test_the_plan_is_deterministic():
    first = demo._ruian_specs(random.Random(1), lambda code: 0)
    second = demo._ruian_specs(random.Random(1), lambda code: 0)
    assert [(t.code, t.name, [(c.code, c.name) for c in t.children]) for t in first] == [
        (t.code, t.name, [(c.code, c.name) for c in t.children]) for t in second
    ]


def demo_users_sign_in_at_each_tier_and_the_second_city_is_apart(seeded, client):
    assert "city_admin" in seeded and demo.DEMO_PASSWORD in seeded
    for username in ("city_admin", "shangwang_staff", "jiusan_member", "pingyang_admin", "dept_police"):
        assert client.login(username=username, password=demo.DEMO_PASSWORD), username
    jiusan = User.objects.get(username="jiusan_member")
    assert set(scoping.scope_nodes(jiusan).values_list("level", flat=True)) == {2, 3}
    pingyang_admin = User.objects.get(username="pingyang_admin")
    assert not scoping.scope_nodes(pingyang_admin).filter(tenant__code="330381").exists()
    assert (
        scoping.scope_nodes(pingyang_admin).count() == GridNode.objects.filter(tenant__code="330326").count()
    )


def demo_members_land_on_real_work():
    """Every plot of the sample townships has a responsible member; the demo members hold a plot
    with households, this month's visits and households due; the grid node says the same person."""
    from teams import selectors as team_selectors
    from teams.models import PlotAssignment, Visit, VisitCadence

    ruian = Tenant.objects.get(code="330381")
    sample = GridNode.objects.filter(
        tenant=ruian, kind=Kind.PLOT, parent__parent__name__in=demo.SAMPLE_TOWNSHIPS
    )
    open_plots = PlotAssignment.objects.filter(ended_at__isnull=True, plot__in=sample)
    assert open_plots.count() == sample.count() > 0
    assert VisitCadence.objects.filter(tenant=ruian).count() == 3
    assert Visit.objects.filter(tenant=ruian).count() > 1000
    for username in ("jiusan_member", "linbei_member"):
        member = User.objects.get(username=username)
        [plot] = team_selectors.my_assignments(actor=member)
        assert plot.household_count > 100 and plot.visited_this_month + plot.due_count > 0
        assert GridNode.objects.get(pk=plot.plot_id).responsible_id == member.pk
