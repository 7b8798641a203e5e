from django.db import migrations

from routing.reference import create_channels_and_presence


def forwards(apps, schema_editor):
    create_channels_and_presence(apps)


class Migration(migrations.Migration):
    dependencies = [("routing", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
