"""Who may do what in the admin: every admin action and every changelist, for each
staff role (support, finance, admin) and for a staff member in no group.

The lists of actions and of admin pages are read from the admin site itself: a new
action or page without a row here fails `test_the_matrix_covers_the_whole_admin`,
so nothing gets offered to everyone by default again (a review found staff with
"view user" granting themselves credits through an action without a permission)."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory

from accounts.models import User

pytestmark = pytest.mark.django_db

ROLES = ("support", "finance", "admin", "no_group")
EVERYONE_IN_A_ROLE = {"support", "finance", "admin"}
FINANCE = {"finance", "admin"}
ADMIN = {"admin"}
NOBODY: set[str] = set()

# (app_label, model_name, action) -> roles offered it and allowed to run it.
ACTIONS: dict[tuple[str, str, str], set[str]] = {
    ("accounts", "user", "ban"): ADMIN,
    ("accounts", "user", "unban"): ADMIN,
    ("accounts", "user", "change_credits"): FINANCE,
    ("accounts", "user", "delete_selected"): ADMIN,
    ("generations", "aimodel", "delete_selected"): ADMIN,
    ("generations", "generation", "cancel_and_refund"): {"support", "admin"},
    ("generations", "generation", "staff_refund"): FINANCE,
    ("payments", "payment", "refund"): FINANCE,
    ("payments", "paymentissue", "refund_stars"): FINANCE,
    ("payments", "paymentissue", "resolve"): FINANCE,
    ("payments", "withdrawal", "approve"): FINANCE,
    ("payments", "withdrawal", "reject"): FINANCE,
    ("payments", "subscription", "cancel"): FINANCE,
    ("telegram_bot", "telegramupdate", "retry"): ADMIN,
    ("telegram_bot", "broadcast", "delete_selected"): ADMIN,
    ("promotions", "promocode", "delete_selected"): ADMIN,
    ("auth", "group", "delete_selected"): ADMIN,
    ("django_q", "schedule", "delete_selected"): ADMIN,
    ("django_q", "ormq", "delete_selected"): ADMIN,
    ("django_q", "success", "delete_selected"): ADMIN,
    ("django_q", "success", "resubmit"): ADMIN,
    ("django_q", "failure", "delete_selected"): ADMIN,
    ("django_q", "failure", "resubmit"): ADMIN,
    ("axes", "accessattempt", "delete_selected"): ADMIN,
    ("axes", "accessattempt", "cleanup_expired_attempts"): ADMIN,
    ("axes", "accesslog", "delete_selected"): ADMIN,
    ("axes", "accessfailurelog", "delete_selected"): ADMIN,
    ("otp_totp", "totpdevice", "delete_selected"): ADMIN,
}

# (app_label, model_name) -> roles that may open its changelist.
CHANGELISTS: dict[tuple[str, str], set[str]] = {
    ("accounts", "user"): EVERYONE_IN_A_ROLE,
    ("accounts", "creditledgerentry"): EVERYONE_IN_A_ROLE,
    ("generations", "aimodel"): {"support", "admin"},
    ("generations", "generation"): EVERYONE_IN_A_ROLE,
    # Users' own photos: admins only (support sees a generation's inputs as links on its page).
    ("generations", "upload"): ADMIN,
    ("payments", "creditpack"): FINANCE,
    ("payments", "payment"): FINANCE,
    ("payments", "paymentissue"): FINANCE,
    ("payments", "withdrawal"): FINANCE,
    ("payments", "referralaccount"): FINANCE,
    ("payments", "referralearningsentry"): FINANCE,
    ("telegram_bot", "generationnotification"): {"support", "admin"},
    ("telegram_bot", "statusmessage"): {"support", "admin"},
    ("payments", "subscription"): FINANCE,
    ("payments", "starsreconciliation"): FINANCE,
    ("telegram_bot", "telegramupdate"): ADMIN,
    # Broadcasts write to every user: admins only.
    ("telegram_bot", "broadcast"): ADMIN,
    ("telegram_bot", "broadcastdelivery"): ADMIN,
    ("promotions", "promocode"): FINANCE,
    ("promotions", "promoredemption"): EVERYONE_IN_A_ROLE,
    ("promotions", "promoattempt"): FINANCE,
    ("promotions", "dailybonusclaim"): EVERYONE_IN_A_ROLE,
    ("auth", "group"): ADMIN,
    ("django_q", "schedule"): ADMIN,
    ("django_q", "ormq"): ADMIN,
    ("django_q", "success"): ADMIN,
    ("django_q", "failure"): ADMIN,
    ("axes", "accessattempt"): ADMIN,
    ("axes", "accesslog"): ADMIN,
    ("axes", "accessfailurelog"): ADMIN,
    ("otp_totp", "totpdevice"): ADMIN,
}

DASHBOARD = FINANCE
# The apps whose actions are ours: each must check its permission itself too.
OUR_APPS = {"accounts", "generations", "payments", "promotions", "telegram_bot", "ops"}
# Libraries' actions that had no permission; ops.admin gives them one.
TAKEN_OVER = {("django_q", "success", "resubmit"), ("django_q", "failure", "resubmit"),
              ("axes", "accessattempt", "cleanup_expired_attempts")}


def _registry_actions() -> set[tuple[str, str | None, str]]:
    request = RequestFactory().get("/admin/")
    request.user = User(is_staff=True, is_superuser=True, is_active=True)
    return {
        (model._meta.app_label, model._meta.model_name, name)
        for model, model_admin in admin.site._registry.items()
        for name in model_admin.get_actions(request)
    }


def _model_admin(app_label: str, model_name: str) -> admin.ModelAdmin:
    [model_admin] = [ma for model, ma in admin.site._registry.items()
                     if (model._meta.app_label, model._meta.model_name) == (app_label, model_name)]
    return model_admin


@pytest.fixture
def staff() -> dict[str, User]:
    members = {}
    for role in ROLES:
        user = User.objects.create_user(email=f"{role}@staff.example", password="x", is_staff=True)
        if role != "no_group":
            user.groups.add(Group.objects.get(name=role))
        members[role] = user
    return members


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_matrix_covers_the_whole_admin():
    assert _registry_actions() == set(ACTIONS)
    assert {(m._meta.app_label, m._meta.model_name) for m in admin.site._registry} == set(CHANGELISTS)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_is_offered_exactly_its_actions(staff, role):
    request = RequestFactory().get("/admin/")
    request.user = staff[role]
    offered = {
        (model._meta.app_label, model._meta.model_name, name)
        for model, model_admin in admin.site._registry.items()
        for name in model_admin.get_actions(request)
    }
    assert offered == {action for action, roles in ACTIONS.items() if role in roles}


@pytest.mark.parametrize("role", ROLES)
def test_a_forged_post_of_an_action_is_refused_without_its_permission(staff, role):
    for (app_label, model_name, action), roles in ACTIONS.items():
        client = client_for(staff[role])  # a fresh one: no message left over from the last post
        response = client.post(f"/admin/{app_label}/{model_name}/", {"action": action, "_selected_action": ["0"]})
        # Refused: no permission to see the page (403), or the changelist again: Django
        # refuses an action it did not offer ("No action selected."), and ignores the
        # post when it offers none. An action that ran answers with its own page (a
        # form, a confirmation) or a redirect after its work.
        messages = [str(message) for message in get_messages(response.wsgi_request)]
        shown = {template.name for template in response.templates}
        refused = response.status_code == 403 or "No action selected." in messages or (
            response.status_code == 200 and "admin/change_list.html" in shown
        )
        assert refused == (role not in roles), (role, action, response.status_code)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_opens_exactly_its_changelists_and_the_dashboard(staff, role):
    client = client_for(staff[role])
    for (app_label, model_name), roles in CHANGELISTS.items():
        status = client.get(f"/admin/{app_label}/{model_name}/").status_code
        assert status == (200 if role in roles else 403), (role, app_label, model_name, status)
    dashboard = client.get("/admin/dashboard/")
    assert dashboard.status_code == (200 if role in DASHBOARD else 403)
    index = client.get("/admin/")
    assert (b"ops-dashboard-link" in index.content) == (role in DASHBOARD)


@pytest.mark.parametrize(
    "action",
    sorted(a for a in ACTIONS if (a[0] in OUR_APPS or a in TAKEN_OVER) and a[2] != "delete_selected"),
    ids=lambda a: ".".join(a),
)
def test_our_actions_refuse_to_run_without_their_permission_even_when_called_directly(staff, action):
    """Django already hides an action from staff without its permission; the action
    checks again itself, so no wiring mistake (or forged request) can run it."""
    app_label, model_name, name = action
    model_admin = _model_admin(app_label, model_name)
    superuser_request = RequestFactory().get("/admin/")
    superuser_request.user = User(is_staff=True, is_superuser=True, is_active=True)
    function = model_admin.get_actions(superuser_request)[name][0]  # type: ignore[index]
    request = RequestFactory().post(f"/admin/{app_label}/{model_name}/", {"apply": "1"})
    request.user = staff["support" if "support" not in ACTIONS[action] else "no_group"]
    with pytest.raises(PermissionDenied):
        function(model_admin, request, model_admin.model.objects.none())


def test_staff_who_may_only_view_users_can_neither_mint_credits_nor_ban(owner, audit_passes):
    """The review's reproduction: a staff member with nothing but accounts.view_user."""
    from django.contrib.auth.models import Permission

    viewer = User.objects.create_user(email="viewer@staff.example", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(content_type__app_label="accounts", codename="view_user"))
    client = client_for(viewer)

    client.post("/admin/accounts/user/", {"action": "change_credits", "_selected_action": [owner.pk],
                                          "apply": "1", "amount": "1000000", "reason": "bonus"})
    client.post("/admin/accounts/user/", {"action": "ban", "_selected_action": [owner.pk]})

    owner.refresh_from_db()
    assert (owner.credits, owner.is_banned) == (0, False)
