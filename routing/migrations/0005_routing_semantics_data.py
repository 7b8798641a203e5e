from django.db import migrations

from routing.reference import create_routing_semantics_data


def forwards(apps, schema_editor):
    create_routing_semantics_data(apps)


class Migration(migrations.Migration):
    dependencies = [("routing", "0004_routing_semantics")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
