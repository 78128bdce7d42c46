"""Users carry an access version: the key under which their grants and units are cached."""

import grids.access
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("teams", "0007_work_log_closed_days"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="access_version",
            field=models.BigIntegerField(
                default=grids.access.new_access_version, editable=False, verbose_name="access version"
            ),
        ),
    ]
