"""Staff roles as groups: support, finance, admin (see ops/roles.py, which also keeps
them in line after every later migrate)."""

from django.db import migrations


def roles_create(apps, schema_editor):
    from ops.roles import staff_roles_sync

    staff_roles_sync(apps=apps, using=schema_editor.connection.alias)


class Migration(migrations.Migration):

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("accounts", "0004_staff_permissions"),
        ("generations", "0005_staff_permissions"),
        ("payments", "0005_refund_hold_before_telegram"),
        ("telegram_bot", "0001_initial"),
        ("ops", "0001_initial"),
    ]

    # Backwards: the groups stay (they may have members); nothing else depends on them.
    operations = [migrations.RunPython(roles_create, migrations.RunPython.noop)]
