// Free credits on the balance screen: the daily bonus card (with a countdown to the next
// one) and the promo code field. Each returns { el, destroy }.

import { clear, h, icon, uid } from "../dom.js";
import { formatWait, t } from "../i18n.js";
import { credits, errorText } from "./common.js";

/** "05:42:17" until `nextAt`, never negative. */
function countdown(nextAt) {
  const seconds = Math.max(0, Math.ceil((new Date(nextAt).getTime() - Date.now()) / 1000));
  const pad = (n) => String(n).padStart(2, "0");
  return `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor((seconds % 3600) / 60))}:${pad(seconds % 60)}`;
}

/** The daily bonus: hidden while the service has none (404), else a button or a countdown. */
export function dailyBonusCard(ctx) {
  const body = h("div", { class: "bonus-body" });
  // Not a live region: the countdown changes every second (the toast says what happened).
  const el = h("div", { class: "card bonus-card", hidden: true },
    h("h2", { class: "bonus-title" }, icon("sparkles", { size: 18 }), t("bonus_title")), body);
  let timer = null;
  let claiming = false;
  let gone = false;

  function stopTimer() {
    if (timer) clearInterval(timer);
    timer = null;
  }

  function showAvailable(amount) {
    stopTimer();
    const button = h("button", { type: "button", class: "btn btn-primary btn-block bonus-claim" },
      t("bonus_claim", { credits: credits(amount) }));
    button.addEventListener("click", () => claim(button));
    clear(body).append(h("p", { class: "hint" }, t("bonus_text", { credits: credits(amount) })), button);
  }

  function showCountdown(nextAt) {
    stopTimer();
    const left = h("span", { class: "bonus-countdown", role: "timer" }, countdown(nextAt));
    clear(body).append(h("p", { class: "bonus-next" }, t("bonus_next"), " ", left));
    timer = setInterval(() => {
      left.textContent = countdown(nextAt);
      if (new Date(nextAt).getTime() <= Date.now()) load();
    }, 1000);
  }

  async function claim(button) {
    if (claiming) return;
    claiming = true;
    button.disabled = true;
    try {
      const claimed = await ctx.api.post("bonus/daily");
      ctx.tg.haptic("success");
      ctx.toast(t("bonus_claimed", { credits: credits(claimed.credits) }), { kind: "success" });
      showCountdown(claimed.next_at);
      ctx.store.refreshMe().catch(() => {});
    } catch (error) {
      if (error?.code === "BONUS_ALREADY_CLAIMED" && error.details?.next_at) {
        showCountdown(error.details.next_at);
      } else {
        button.disabled = false;
        ctx.toast(errorText(error), { kind: "error" });
      }
    } finally {
      claiming = false;
    }
  }

  async function load() {
    stopTimer();
    try {
      const status = await ctx.api.get("bonus/daily");
      if (gone) return;
      el.hidden = false;
      if (status.available) showAvailable(status.credits);
      else showCountdown(status.next_at);
    } catch {
      el.hidden = true; // 404: the service gives no daily bonus; or it did not load
    }
  }

  load();
  return {
    el,
    destroy() {
      gone = true;
      stopTimer();
    },
  };
}

/** A promo code field: the code's credits go to the balance, refusals are said under it. */
export function promoCodeForm(ctx) {
  const inputId = uid("promo");
  const input = h("input", { id: inputId, name: "code", class: "input promo-input", type: "text", maxlength: "64",
    autocomplete: "off", autocapitalize: "characters", spellcheck: "false", placeholder: t("promo_placeholder"),
    "aria-describedby": `${inputId}-message` });
  const message = h("div", { id: `${inputId}-message`, class: "form-message", "aria-live": "assertive" });
  const submit = h("button", { type: "submit", class: "btn promo-apply" }, t("promo_apply"));
  const el = h("form", { class: "card form promo-form", novalidate: true },
    h("div", { class: "field" }, h("label", { for: inputId }, t("promo_title")),
      h("div", { class: "promo-row" }, input, submit)),
    message);
  let sending = false;

  function say(text) {
    clear(message).append(h("p", { class: "message-error", role: "alert" }, text));
    input.setAttribute("aria-invalid", "true");
  }

  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (sending) return;
    clear(message);
    input.setAttribute("aria-invalid", "false");
    const code = input.value.trim();
    if (!code) {
      say(t("promo_required"));
      return;
    }
    sending = true;
    submit.disabled = true;
    try {
      const granted = await ctx.api.post("promo/redeem", { code });
      ctx.tg.haptic("success");
      ctx.toast(t("promo_applied", { credits: credits(granted.credits) }), { kind: "success" });
      input.value = "";
      ctx.store.refreshMe().catch(() => {});
    } catch (error) {
      ctx.tg.haptic("error");
      say(error?.code === "RATE_LIMIT_EXCEEDED" && error.retryAfter
        ? t("promo_wait", { time: formatWait(error.retryAfter) })
        : errorText(error));
    } finally {
      sending = false;
      submit.disabled = false;
    }
  });

  return { el, destroy() {} };
}
