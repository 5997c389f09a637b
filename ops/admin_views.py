"""The staff dashboard (/admin/dashboard/): charts of a chosen period, and what is
pending or stuck right now. Staff with `ops.view_dashboard` only."""

from datetime import UTC, date, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from generations.models import Generation
from ops import charts
from ops.selectors import dashboard as selectors
from ops.selectors.dashboard import Period

STATUS_COLORS = {
    Generation.Status.COMPLETED: "#3c9a5f",
    Generation.Status.FAILED: "#d9534f",
    Generation.Status.CANCELLED: "#999999",
    Generation.Status.PROCESSING: "#f0ad4e",
    Generation.Status.PENDING: "#5bc0de",
}
QUICK_PERIODS = (7, 30, 90, 365)
DASHBOARD_PERMISSION = "ops.view_dashboard"
# Dates the dashboard can show: long before launch to far in the future.
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)


class PeriodForm(forms.Form):
    first = forms.DateField(label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    last = forms.DateField(label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    days = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        limit = settings.DASHBOARD_MAX_DAYS
        if data.get("days") and not (data.get("first") or data.get("last")):
            days = min(data["days"], limit)
            data["period"] = Period.last_days(days, today=self.today)
            return data
        if any(not EARLIEST <= day <= LATEST for day in (data.get("first"), data.get("last")) if day):
            # A period at the ends of the calendar overflowed computing its bounds (a 500).
            raise forms.ValidationError(
                _("Choose dates from %(earliest)s to %(latest)s.") % {"earliest": EARLIEST, "latest": LATEST}
            )
        last = data.get("last") or self.today
        first = data.get("first") or last - timedelta(days=settings.DASHBOARD_DEFAULT_DAYS - 1)
        if first > last:
            raise forms.ValidationError(_("The period must start before it ends."))
        if (last - first).days + 1 > limit:
            raise forms.ValidationError(_("Choose a period of at most %(days)d days.") % {"days": limit})
        data["period"] = Period(first=first, last=last)
        return data


def dashboard_view(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(DASHBOARD_PERMISSION):
        raise PermissionDenied
    today = timezone.now().astimezone(UTC).date()
    form = PeriodForm(request.GET or None, today=today)
    if form.is_bound and form.is_valid():
        period = form.cleaned_data["period"]
    else:
        period = Period.last_days(settings.DASHBOARD_DEFAULT_DAYS, today=today)
    if not form.is_bound or form.is_valid():
        # The date fields show the period on the page, whichever way it was chosen.
        form = PeriodForm(initial={"first": period.first, "last": period.last}, today=today)
    context = {
        **admin.site.each_context(request),
        "title": _("Dashboard"),
        "form": form,
        "period": period,
        "quick_periods": QUICK_PERIODS,
        **_period_context(period),
        "live": selectors.generations_live(),
        "stars_health": selectors.stars_health(),
    }
    return TemplateResponse(request, "admin/ops/dashboard.html", context)


def _period_context(period: Period) -> dict[str, Any]:
    days = period.days
    labels = [day.strftime("%d.%m") for day in days]

    per_day = selectors.generations_per_day(period=period)
    statuses = list(STATUS_COLORS)
    generations_chart = charts.bar_chart(
        title=_("Generations per day by status"),
        labels=labels,
        series=[
            charts.Series(str(Generation.Status(status).label), STATUS_COLORS[status],
                          [per_day.get(day, {}).get(status, 0) for day in days])
            for status in statuses
        ],
    )
    totals = {status: sum(per_day.get(day, {}).get(status, 0) for day in days) for status in statuses}

    models = selectors.model_stats(period=period)
    success_chart = charts.hbar_chart(
        title=_("Success rate per model"),
        rows=[(m.slug, m.success_rate, "—" if m.success_rate is None else f"{m.success_rate:.0%}") for m in models],
        color="#3c9a5f",
        maximum=1.0,
    )
    duration_chart = charts.hbar_chart(
        title=_("Median duration per model"),
        rows=[(m.slug, m.median_seconds, "—" if m.median_seconds is None else f"{m.median_seconds:.1f} s")
              for m in models],
        color="#337ab7",
    )

    credits = selectors.credits_per_day(period=period)
    credits_chart = charts.bar_chart(
        title=_("Credits sold and spent per day"),
        labels=labels,
        series=[
            charts.Series(_("sold"), "#337ab7", [credits[day].sold for day in days]),
            charts.Series(_("spent"), "#f0ad4e", [max(credits[day].spent, 0) for day in days]),
        ],
        stacked=False,
    )
    stars = selectors.stars_per_day(period=period)
    stars_chart = charts.bar_chart(
        title=_("Stars revenue per day"),
        labels=labels,
        series=[
            charts.Series(_("received"), "#e5b700", [stars[day].received for day in days]),
            charts.Series(_("refunded"), "#d9534f", [stars[day].refunded for day in days]),
        ],
        stacked=False,
    )
    users = selectors.users_per_day(period=period)
    users_chart = charts.bar_chart(
        title=_("New users and referral conversions per day"),
        labels=labels,
        series=[
            charts.Series(_("new users"), "#5bc0de", [users[day].new for day in days]),
            charts.Series(_("referred"), "#9b59b6", [users[day].referred for day in days]),
            charts.Series(_("referral conversions"), "#3c9a5f", [users[day].conversions for day in days]),
        ],
        stacked=False,
    )
    completed, failed = totals[Generation.Status.COMPLETED], totals[Generation.Status.FAILED]
    summary = {
        "generations": sum(totals.values()),
        "success_rate": completed / (completed + failed) if completed + failed else None,
        "credits_sold": sum(credits[day].sold for day in days),
        "credits_spent": sum(credits[day].spent for day in days),
        "credits_granted": sum(credits[day].granted for day in days),
        "stars_received": sum(stars[day].received for day in days),
        "stars_refunded": sum(stars[day].refunded for day in days),
        "stars_affiliate": sum(stars[day].affiliate for day in days),
        "stars_net": sum(stars[day].net for day in days),
        "payments": sum(stars[day].payments for day in days),
        "new_users": sum(users[day].new for day in days),
        "referred_users": sum(users[day].referred for day in days),
        "conversions": sum(users[day].conversions for day in days),
    }
    return {
        "summary": summary,
        "models": models,
        "charts": {
            "generations": generations_chart,
            "success": success_chart,
            "duration": duration_chart,
            "credits": credits_chart,
            "stars": stars_chart,
            "users": users_chart,
        },
    }
