from django.db import migrations, models

from core.db_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run in a transaction; payments go on while it builds.
    atomic = False

    dependencies = [
        ('payments', '0006_stars_subscriptions_reconciliation'),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name='payment',
            index=models.Index(condition=models.Q(('subscription__isnull', False)), fields=['subscription', '-id'], name='payment_subscription_recent'),
        ),
    ]
