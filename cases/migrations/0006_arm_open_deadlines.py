"""Data: give the open cases that already have a deadline their card thresholds and next scan time.

Default working hours and the default supervision thresholds (no city has set its own yet).
"""

from zoneinfo import ZoneInfo

from django.db import migrations

TIMED = ("registered", "dispatched", "in_hand", "resolved")
NEXT = {0: "yellow_at", 1: "due_at", 2: "yellow_card_at", 3: "red_card_at"}


def arm(apps, schema_editor):
    from cases.calendar import WorkCalendar

    Case = apps.get_model("cases", "Case")
    CalendarDay = apps.get_model("cases", "CalendarDay")
    Tenant = apps.get_model("grids", "Tenant")
    for tenant in Tenant.objects.all():
        days = dict(CalendarDay.objects.filter(tenant_id=tenant.pk).values_list("date", "is_working"))
        cal = WorkCalendar(tz=ZoneInfo(tenant.time_zone or "Asia/Shanghai"), exceptions=days)
        rows = Case.objects.filter(tenant_id=tenant.pk, status__in=TIMED, due_at__isnull=False)
        for case in rows.iterator():
            case.yellow_card_at = cal.add(case.due_at, 8 * 60)
            case.red_card_at = cal.add(case.due_at, 24 * 60)
            attr = NEXT.get(case.alert_level)
            case.next_check_at = getattr(case, attr) if attr else None
            case.save(update_fields=["yellow_card_at", "red_card_at", "next_check_at"])


class Migration(migrations.Migration):
    dependencies = [("cases", "0005_supervision_orders_and_working_hours")]
    operations = [migrations.RunPython(arm, migrations.RunPython.noop)]
