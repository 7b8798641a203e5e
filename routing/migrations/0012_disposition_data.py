from django.db import migrations

from routing.reference import create_dispositions


def forwards(apps, schema_editor):
    create_dispositions(apps)


class Migration(migrations.Migration):
    dependencies = [("routing", "0011_dispositions_transfers")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
