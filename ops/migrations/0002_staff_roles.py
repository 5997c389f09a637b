"""Staff roles as groups: support, finance, admin. Their permissions come from the
table in ops/roles.py, applied after every migrate (OpsConfig's post_migrate hook):
this migration runs before later apps' models exist, so it only makes the groups."""

from django.db import migrations

ROLE_NAMES = ("support", "finance", "admin")


def roles_create(apps, schema_editor):
    group_model = apps.get_model("auth", "Group")
    for name in ROLE_NAMES:
        group_model.objects.using(schema_editor.connection.alias).get_or_create(name=name)


class Migration(migrations.Migration):

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("ops", "0001_initial"),
    ]

    # Backwards: the groups stay (they may have members); nothing else depends on them.
    operations = [migrations.RunPython(roles_create, migrations.RunPython.noop)]
