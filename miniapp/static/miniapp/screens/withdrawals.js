// Withdrawals of referral earnings (in Stars): the request form and the list with statuses.

import { clear, h, uid } from "../dom.js";
import { formatShortDate, plural, t } from "../i18n.js";
import { emptyBlock, errorBlock, errorText, loadingBlock, screenEl } from "./common.js";

// The API's methods; a server that names its own (withdrawal_methods) wins.
const METHODS = ["ton", "usdt_ton", "usdt_trc20", "card"];

function methodLabel(value) {
  const key = `method_${value}`;
  const text = t(key);
  return text === key ? value : text;
}

export function withdrawalsScreen(ctx, params) {
  let info = params.info || null;
  const listBody = h("div", {}, loadingBlock());
  const formBody = h("div", {});
  let sending = false;

  const el = screenEl("withdrawals",
    h("div", { class: "screen-body" },
      formBody,
      h("h2", { class: "section-title" }, t("withdrawals_title")),
      listBody));

  function renderForm() {
    const amountId = uid("amount");
    const methodId = uid("method");
    const destinationId = uid("destination");
    const hintId = uid("hint");
    const available = info?.earnings ?? 0;
    const minimum = info?.withdrawal_min_amount ?? 1;
    const methods = info?.withdrawal_methods || METHODS;
    const amount = h("input", { id: amountId, name: "amount", class: "input", type: "number", inputmode: "numeric",
      min: String(minimum), max: String(available), step: "1", required: true, "aria-describedby": hintId });
    const method = h("select", { id: methodId, name: "method", class: "input" },
      methods.map((m) => h("option", { value: m }, methodLabel(m))));
    const destination = h("input", { id: destinationId, name: "destination", class: "input", type: "text", required: true,
      maxlength: "255", autocomplete: "off", "aria-describedby": `${destinationId}-hint` });
    const message = h("div", { class: "form-message", "aria-live": "assertive" });
    const submit = h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("withdraw_submit"));
    const tooLittle = available < minimum;
    if (tooLittle) submit.disabled = true;
    const form = h("form", { class: "card form", novalidate: true },
      h("div", { class: "field" }, h("label", { for: amountId }, t("withdraw_amount")), amount,
        h("span", { id: hintId, class: "hint" },
          `${t("withdraw_available", { amount: plural("stars", available) })} · ${t("withdraw_min", { amount: plural("stars", minimum) })}`)),
      h("div", { class: "field" }, h("label", { for: methodId }, t("withdraw_method")), method),
      h("div", { class: "field" }, h("label", { for: destinationId }, t("withdraw_destination")), destination,
        h("span", { id: `${destinationId}-hint`, class: "hint" }, t("withdraw_destination_hint"))),
      info?.pending_withdrawal ? h("p", { class: "hint" }, t("withdraw_on_hold", { amount: plural("stars", info.pending_withdrawal) })) : null,
      tooLittle ? h("p", { class: "hint" }, t("withdraw_too_little", { amount: plural("stars", minimum) })) : null,
      message,
      submit);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (sending || tooLittle) return;
      clear(message);
      for (const field of [amount, method, destination]) field.setAttribute("aria-invalid", "false");
      sending = true;
      submit.disabled = true;
      try {
        await ctx.api.post("withdrawals", {
          amount: Number(amount.value),
          method: method.value,
          destination: destination.value.trim(),
        });
        ctx.toast(t("withdraw_requested"), { kind: "success" });
        await reloadInfo();
        await loadList();
        return;
      } catch (error) {
        message.append(h("p", { class: "message-error", role: "alert" }, errorText(error)));
        for (const [field, messages] of Object.entries(error.details || {})) {
          const input = form.elements.namedItem(field);
          if (input) {
            input.setAttribute("aria-invalid", "true");
            message.append(h("p", { class: "message-error" }, [messages].flat(Infinity).join(" ")));
          }
        }
      } finally {
        sending = false;
      }
      submit.disabled = false;
    });
    clear(formBody).append(form);
  }

  function item(w) {
    const notes = [];
    if (w.status === "rejected" && w.reject_reason) notes.push(t("withdrawal_reason", { reason: w.reject_reason }));
    if (w.status === "paid" && w.payout_reference) notes.push(t("withdrawal_reference", { reference: w.payout_reference }));
    return h("li", { class: "withdrawal", dataset: { status: w.status } },
      h("span", { class: "withdrawal-main" },
        h("span", { class: "withdrawal-amount" }, plural("stars", w.amount)),
        h("span", { class: "withdrawal-meta" }, [methodLabel(w.method), w.destination, formatShortDate(w.created_at)].filter(Boolean).join(" · ")),
        notes.length ? h("span", { class: "withdrawal-meta" }, notes.join(" ")) : null),
      h("span", { class: ["badge", `withdrawal-${w.status}`] }, t(`withdrawal_status_${w.status}`)));
  }

  async function loadList() {
    try {
      const data = await ctx.api.get("withdrawals");
      const items = Array.isArray(data) ? data : data.results || [];
      clear(listBody).append(items.length ? h("ul", { class: "withdrawal-list" }, items.map(item)) : emptyBlock(t("withdrawals_empty")));
    } catch (error) {
      clear(listBody).append(errorBlock(error, loadList));
    }
  }

  async function reloadInfo() {
    try {
      info = await ctx.api.get("referrals");
    } catch (error) {
      if (!info) {
        clear(formBody).append(errorBlock(error, reloadInfo));
        return;
      }
    }
    renderForm();
  }

  if (info) renderForm();
  else reloadInfo();
  loadList();
  return { el, title: t("withdrawals_title") };
}
