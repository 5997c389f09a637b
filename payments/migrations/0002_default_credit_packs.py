"""The default credit packs. Staff change them in the admin afterwards; this
migration only adds the packs that are missing, and removes only untouched ones."""

from django.db import migrations

DEFAULT_PACKS = [
    # slug, English title, Russian title, Stars, credits, sort order
    ("starter", "Starter: 50 credits", "Старт: 50 кредитов", 50, 50, 10),
    ("standard", "Standard: 165 credits", "Стандарт: 165 кредитов", 150, 165, 20),
    ("pro", "Pro: 600 credits", "Про: 600 кредитов", 500, 600, 30),
    ("max", "Max: 2000 credits", "Максимум: 2000 кредитов", 1500, 2000, 40),
]


def add_packs(apps, schema_editor):
    CreditPack = apps.get_model("payments", "CreditPack")
    for slug, title, title_ru, stars, credits, sort_order in DEFAULT_PACKS:
        CreditPack.objects.get_or_create(
            slug=slug,
            defaults={"title": title, "title_ru": title_ru, "stars": stars, "credits": credits,
                      "sort_order": sort_order, "is_active": True},
        )


def remove_packs(apps, schema_editor):
    CreditPack = apps.get_model("payments", "CreditPack")
    CreditPack.objects.filter(slug__in=[pack[0] for pack in DEFAULT_PACKS], payments__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("payments", "0001_initial")]

    operations = [migrations.RunPython(add_packs, remove_packs)]
