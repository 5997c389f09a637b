// Balance and credit packs, bought with Telegram Stars through Telegram's invoice sheet.

import { clear, h, icon, sleep } from "../dom.js";
import { formatNumber, formatShortDate, plural, t } from "../i18n.js";
import { credits, emptyBlock, errorBlock, errorText, loadingBlock, screenEl } from "./common.js";
import { dailyBonusCard, promoCodeForm } from "./growth.js";
import { isSubscriptionPack, subscriptionsSection } from "./subscriptions.js";

// After Telegram says "paid", the bot still has to receive and confirm the payment
// before the credits are there: look a few times, sooner first.
const CREDIT_WAIT_MS = [500, 1000, 1500, 2000, 3000, 4000, 5000, 8000];

export function balanceScreen(ctx, params) {
  const amount = h("p", { class: "balance-amount" });
  const packsBody = h("div", {}, loadingBlock());
  const paymentsTitle = h("h2", { class: "section-title", hidden: true }, t("payments_title"));
  const paymentsBody = h("div", {});
  const stop = new AbortController();
  let buying = false;
  const bonus = dailyBonusCard(ctx);
  const promo = promoCodeForm(ctx);
  const subscriptions = subscriptionsSection(ctx, { buy: (pack, button) => buy(pack, button) });

  const el = screenEl(
    "balance",
    h("div", { class: "screen-body" },
      params.need
        ? h("div", { class: "card notice notice-warning", role: "alert" },
          icon("alert", { size: 20 }),
          h("p", {}, t("need_more", { price: credits(params.need.price), balance: credits(params.need.balance) })))
        : null,
      h("div", { class: "card balance-card" }, h("p", { class: "balance-label" }, t("balance_value")), amount),
      bonus.el,
      promo.el,
      subscriptions.el,
      h("h2", { class: "section-title" }, t("packs_title")),
      packsBody,
      paymentsTitle,
      paymentsBody),
  );

  function renderBalance(me) {
    amount.textContent = plural("credits", me?.credits ?? 0);
  }

  function setBuying(value) {
    buying = value;
    for (const button of el.querySelectorAll(".pack-buy")) button.disabled = value;
  }

  async function waitForCredits(before) {
    for (const delay of CREDIT_WAIT_MS) {
      await sleep(delay, stop.signal);
      const me = await ctx.store.refreshMe().catch(() => null);
      if (me && me.credits !== before) return true;
    }
    return false;
  }

  async function buy(pack, button) {
    if (buying) return;
    setBuying(true);
    button.setAttribute("aria-busy", "true");
    const before = ctx.store.me?.credits ?? 0;
    try {
      const invoice = await ctx.api.post("payments/invoice", { pack: pack.slug });
      const status = await ctx.tg.openInvoice(invoice.invoice_link);
      if (status === "cancelled" || status === "failed") {
        // Closed unpaid: the server marks it so, and the purchases list says so.
        await ctx.api.post(`payments/${invoice.payment_id}/cancel`).catch(() => null);
        loadPayments();
      }
      if (status === "paid") {
        ctx.tg.haptic("success");
        ctx.toast(t("payment_paid"), { kind: "success" });
        await waitForCredits(before);
      } else if (status === "pending") {
        ctx.toast(t("payment_pending"));
        await waitForCredits(before);
      } else if (status === "failed") {
        ctx.tg.haptic("error");
        ctx.toast(t("payment_failed"), { kind: "error" });
      } else if (status === "external") {
        ctx.toast(t(ctx.tg.inTelegram ? "payment_in_telegram" : "payment_outside"));
        loadPayments();
      }
    } catch (error) {
      if (error?.name !== "AbortError") ctx.toast(errorText(error), { kind: "error" });
    } finally {
      button.removeAttribute("aria-busy");
      setBuying(false);
    }
  }

  function packCard(pack) {
    const button = h("button", {
      type: "button",
      class: "btn btn-primary pack-buy",
      dataset: { pack: pack.slug },
      "aria-label": t("pack_buy", { title: pack.title, stars: formatNumber(pack.stars) }),
      onclick: () => buy(pack, button),
    }, icon("star", { size: 16 }), formatNumber(pack.stars));
    return h("li", { class: "pack" },
      h("span", { class: "pack-main" },
        h("span", { class: "pack-title" }, pack.title),
        h("span", { class: "pack-credits" }, credits(pack.credits))),
      button);
  }

  async function loadPacks() {
    clear(packsBody).append(loadingBlock());
    try {
      const all = await ctx.api.get("payments/packs");
      const packs = all.filter((pack) => !isSubscriptionPack(pack));
      subscriptions.load(all.filter(isSubscriptionPack));
      clear(packsBody).append(
        packs.length ? h("ul", { class: "pack-list", "aria-label": t("packs_title") }, packs.map(packCard)) : emptyBlock(t("packs_empty")),
      );
    } catch (error) {
      clear(packsBody).append(errorBlock(error, loadPacks));
    }
  }

  // The latest purchases, so a user sees that a payment arrived (or was refunded).
  async function loadPayments() {
    try {
      const page = await ctx.api.get("payments");
      const items = (Array.isArray(page) ? page : page.results || []).slice(0, 10);
      paymentsTitle.hidden = items.length === 0;
      clear(paymentsBody).append(
        items.length
          ? h("ul", { class: "withdrawal-list payment-list" }, items.map((p) =>
            h("li", { class: "withdrawal", dataset: { id: p.id, status: p.status } },
              h("span", { class: "withdrawal-main" },
                h("span", { class: "withdrawal-amount" }, `${p.title} · ${credits(p.credits)}`),
                h("span", { class: "withdrawal-meta" }, `${plural("stars", p.stars)} · ${formatShortDate(p.created_at)}`)),
              h("span", { class: ["badge", `payment-${p.status}`] }, t(`payment_status_${p.status}`)))))
          : "",
      );
    } catch {
      /* the purchases list is extra information: leave it out when it cannot load */
    }
  }

  // Back from a payment finished outside the app (a browser opened the t.me invoice).
  const onVisible = () => {
    if (!document.hidden) ctx.store.refreshMe().catch(() => {});
  };
  document.addEventListener("visibilitychange", onVisible);
  let shownCredits = ctx.store.me?.credits;
  const unsubscribe = ctx.store.onMe((me) => {
    renderBalance(me);
    // A changed balance usually means a purchase arrived (or was refunded), maybe a subscription.
    if (me.credits !== shownCredits) {
      loadPayments();
      loadPacks();
    }
    shownCredits = me.credits;
  });
  renderBalance(ctx.store.me);
  loadPacks();
  loadPayments();
  ctx.store.refreshMe().catch(() => {});

  return {
    el,
    title: t("balance_title"),
    destroy() {
      stop.abort(new DOMException("left the screen", "AbortError"));
      document.removeEventListener("visibilitychange", onVisible);
      unsubscribe();
      bonus.destroy();
      promo.destroy();
    },
  };
}
