from django.db import migrations

from routing.reference import create_channel_queues


def forwards(apps, schema_editor):
    create_channel_queues(apps)


class Migration(migrations.Migration):
    dependencies = [("routing", "0008_skill_need_fields")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
