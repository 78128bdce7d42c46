"""`{% household_rows %}` and `{% resident_rows %}`: the registry lists' rows drawn in Python
(ruian_grid.rows), the same HTML the row templates gave."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from grids.registry.models import Household, Resident
from ruian_grid.rows import labels_of, link_to, or_dash

register = template.Library()


@register.simple_tag
def household_rows(households: Iterable[Household]) -> SafeString:
    head = {
        key: escape(_(text))
        for key, text in (
            ("number", "Household number"), ("address", "Address"), ("plot", "Plot"), ("building", "Building"),
            ("tags", "Tags"), ("residents", "Residents"), ("status", "Status"),
        )
    }  # fmt: skip
    link = link_to("registry:household")
    status = labels_of(Household, "status")
    out = []
    for h in households:
        dwelling = h.dwelling
        building = f"{escape(dwelling.building.code)} {escape(dwelling.number)}" if dwelling else "—"
        tags = "".join(f'<span class="badge">{escape(t.label)}</span> ' for t in h.tag_list) or "—"
        out.append(
            f"""<tr>
  <td data-label="{head["number"]}"><a href="{link(h.pk)}">{escape(h.number)}</a></td>
  <td data-label="{head["address"]}">{or_dash(h.address)}</td>
  <td data-label="{head["plot"]}">{escape(h.plot.name)}</td>
  <td data-label="{head["building"]}">{building}</td>
  <td data-label="{head["tags"]}">{tags}</td>
  <td class="num" data-label="{head["residents"]}">{escape(h.resident_count)}</td>
  <td data-label="{head["status"]}">{status.get(h.status, escape(h.status))}</td>
</tr>"""
        )
    if not out:
        out.append(f'<tr><td colspan="7" class="muted">{escape(_("No households."))}</td></tr>')
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


@register.simple_tag
def resident_rows(residents: Iterable[Resident]) -> SafeString:
    head = {
        key: escape(_(text))
        for key, text in (
            ("household", "Household"), ("id_number", "ID number"), ("sex", "Sex"), ("birth_year", "Birth year"),
            ("population_type", "Population type"), ("relation", "Relation"), ("phone", "Phone"),
            ("status", "Status"),
        )
    }  # fmt: skip
    head["name"] = escape(pgettext("person", "Name"))
    to_resident, to_household = link_to("registry:resident"), link_to("registry:household")
    labels: dict[str, Any] = {
        name: labels_of(Resident, name) for name in ("sex", "population_type", "relation", "status")
    }
    out = []
    for r in residents:
        sex = labels["sex"].get(r.sex, escape(r.sex))
        out.append(
            f"""<tr>
  <td data-label="{head["name"]}"><a href="{to_resident(r.pk)}">{escape(r.name)}</a></td>
  <td data-label="{head["household"]}"><a href="{to_household(r.household_id)}">{escape(r.household.number)}</a></td>
  <td data-label="{head["id_number"]}">{escape(r.id_number_masked)}</td>
  <td data-label="{head["sex"]}">{sex or "—"}</td>
  <td class="num" data-label="{head["birth_year"]}">{or_dash(r.birth_year)}</td>
  <td data-label="{head["population_type"]}">{labels["population_type"].get(r.population_type, escape(r.population_type))}</td>
  <td data-label="{head["relation"]}">{labels["relation"].get(r.relation, escape(r.relation))}</td>
  <td data-label="{head["phone"]}">{or_dash(r.phone_masked)}</td>
  <td data-label="{head["status"]}">{labels["status"].get(r.status, escape(r.status))}</td>
</tr>"""
        )
    if not out:
        out.append(f'<tr><td colspan="9" class="muted">{escape(_("No residents."))}</td></tr>')
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped
