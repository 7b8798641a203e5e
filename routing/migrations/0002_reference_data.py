from django.db import migrations

from routing.reference import create_reference_data


def forwards(apps, schema_editor):
    create_reference_data(apps)


class Migration(migrations.Migration):
    dependencies = [("routing", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
