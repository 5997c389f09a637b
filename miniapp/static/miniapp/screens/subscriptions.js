// Stars subscriptions on the balance screen: the user's subscriptions (renewal date,
// cancel) and the subscription offers, beside the one-time packs. An offer is bought
// like a pack (an invoice link that Telegram makes a monthly subscription).

import { clear, h, icon } from "../dom.js";
import { formatNumber, formatShortDate, t } from "../i18n.js";
import { credits, errorText } from "./common.js";

const SHOWN = new Set(["active", "cancelled"]); // an expired one is history

export function subscriptionsSection(ctx, { buy }) {
  const body = h("div", {});
  const el = h("section", { class: "subscriptions", hidden: true, "aria-label": t("subscription_title") },
    h("h2", { class: "section-title" }, t("subscription_title")),
    body);
  let offers = [];
  let subscriptions = [];
  let confirming = null; // the subscription whose cancel button asks "are you sure?"
  let busy = false;

  function offerCard(pack) {
    const button = h("button", {
      type: "button",
      class: "btn btn-primary pack-buy subscription-buy",
      dataset: { pack: pack.slug },
      "aria-label": t("subscription_buy", { title: pack.title, stars: formatNumber(pack.stars) }),
      onclick: () => buy(pack, button),
    }, icon("star", { size: 16 }), formatNumber(pack.stars));
    return h("li", { class: "pack subscription-offer" },
      h("span", { class: "pack-main" },
        h("span", { class: "pack-title" }, pack.title),
        h("span", { class: "pack-credits" },
          t("subscription_every", { credits: credits(pack.credits), days: pack.period_days }))),
      button);
  }

  function item(subscription) {
    const active = subscription.status === "active";
    const when = formatShortDate(subscription.expires_at);
    const parts = [
      h("span", { class: "withdrawal-main" },
        h("span", { class: "withdrawal-amount" }, `${subscription.title} · ${credits(subscription.credits)}`),
        h("span", { class: "withdrawal-meta subscription-when" },
          active ? t("subscription_renews", { date: when }) : t("subscription_cancelled_until", { date: when }))),
    ];
    if (active) {
      const asking = confirming === subscription.id;
      parts.push(h("button", {
        type: "button",
        class: ["btn", "btn-small", asking ? "btn-danger" : "", "subscription-cancel"],
        disabled: busy,
        "aria-label": asking ? t("subscription_cancel_confirm") : t("subscription_cancel_label", { title: subscription.title }),
        onclick: () => cancel(subscription),
      }, asking ? t("subscription_cancel_confirm") : t("subscription_cancel")));
    } else {
      parts.push(h("span", { class: ["badge", "payment-refunding"] }, t("subscription_status_cancelled")));
    }
    return h("li", { class: "withdrawal subscription", dataset: { status: subscription.status, id: subscription.id } },
      ...parts);
  }

  function render() {
    const current = subscriptions.filter((s) => SHOWN.has(s.status));
    // No offer of a pack the user already subscribes to (and that still renews).
    const renewing = new Set(current.filter((s) => s.status === "active").map((s) => s.pack));
    const open = offers.filter((pack) => !renewing.has(pack.slug));
    el.hidden = current.length === 0 && open.length === 0;
    clear(body).append(
      current.length ? h("ul", { class: "withdrawal-list subscription-list" }, current.map(item)) : "",
      open.length ? h("ul", { class: "pack-list subscription-offers" }, open.map(offerCard)) : "",
    );
  }

  async function cancel(subscription) {
    if (busy) return;
    if (confirming !== subscription.id) {
      confirming = subscription.id; // the first tap only asks
      render();
      return;
    }
    busy = true;
    render();
    try {
      const done = await ctx.api.post(`subscriptions/${subscription.id}/cancel`, {});
      subscriptions = subscriptions.map((s) => (s.id === done.id ? done : s));
      ctx.toast(t("subscription_cancelled", { date: formatShortDate(done.expires_at) }), { kind: "success" });
    } catch (error) {
      ctx.toast(errorText(error), { kind: "error" });
    } finally {
      busy = false;
      confirming = null;
      render();
    }
  }

  /** Show the offers (the packs with a period) and the user's subscriptions. */
  async function load(subscriptionPacks) {
    offers = subscriptionPacks;
    try {
      const page = await ctx.api.get("subscriptions");
      subscriptions = Array.isArray(page) ? page : page.results || [];
    } catch {
      subscriptions = []; // extra information: the offers still show
    }
    render();
  }

  return { el, load };
}

export function isSubscriptionPack(pack) {
  return Boolean(pack.period_days);
}
