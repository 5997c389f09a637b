// Withdrawals of referral earnings: the request form and the list with statuses.

import { clear, h, uid } from "../dom.js";
import { formatShortDate, plural, t } from "../i18n.js";
import { emptyBlock, errorBlock, errorText, loadingBlock, screenEl } from "./common.js";

export function withdrawalsScreen(ctx, params) {
  let info = params.info || null;
  const formMessage = h("div", { class: "form-message", "aria-live": "assertive" });
  const listBody = h("div", {}, loadingBlock());
  const formBody = h("div", {});
  let sending = false;

  const el = screenEl("withdrawals",
    h("div", { class: "screen-body" },
      formBody,
      h("h2", { class: "section-title" }, t("withdrawals_title")),
      listBody));

  function methodsOf(source) {
    const raw = source?.withdrawal_methods || source?.methods || [];
    return raw.map((m) => (typeof m === "string" ? { value: m, label: m } : { value: m.value ?? m.slug, label: m.label ?? m.name ?? m.value }));
  }

  function renderForm() {
    const amountId = uid("amount");
    const methodId = uid("method");
    const destinationId = uid("destination");
    const hintId = uid("hint");
    const available = info?.earnings ?? 0;
    const methods = methodsOf(info);
    const amount = h("input", { id: amountId, name: "amount", class: "input", type: "number", inputmode: "numeric",
      min: "1", max: String(available), step: "1", required: true, "aria-describedby": hintId });
    const method = methods.length
      ? h("select", { id: methodId, name: "method", class: "input" }, methods.map((m) => h("option", { value: m.value }, m.label)))
      : h("input", { id: methodId, name: "method", class: "input", type: "text", required: true, autocomplete: "off" });
    const destination = h("input", { id: destinationId, name: "destination", class: "input", type: "text", required: true,
      autocomplete: "off", "aria-describedby": `${destinationId}-hint` });
    const submit = h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("withdraw_submit"));
    const form = h("form", { class: "card form", novalidate: true },
      h("div", { class: "field" }, h("label", { for: amountId }, t("withdraw_amount")), amount,
        h("span", { id: hintId, class: "hint" }, t("withdraw_available", { amount: plural("stars", available) }))),
      h("div", { class: "field" }, h("label", { for: methodId }, t("withdraw_method")), method),
      h("div", { class: "field" }, h("label", { for: destinationId }, t("withdraw_destination")), destination,
        h("span", { id: `${destinationId}-hint`, class: "hint" }, t("withdraw_destination_hint"))),
      formMessage,
      submit);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (sending) return;
      clear(formMessage);
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
        form.reset();
        await reloadInfo();
        await loadList();
      } catch (error) {
        formMessage.append(h("p", { class: "message-error", role: "alert" }, errorText(error)));
        for (const [field, messages] of Object.entries(error.details || {})) {
          const input = form.elements.namedItem(field);
          if (input) {
            input.setAttribute("aria-invalid", "true");
            formMessage.append(h("p", { class: "message-error" }, [messages].flat(Infinity).join(" ")));
          }
        }
      } finally {
        sending = false;
        submit.disabled = false;
      }
    });
    clear(formBody).append(form);
  }

  function item(w) {
    return h("li", { class: "withdrawal", dataset: { status: w.status } },
      h("span", { class: "withdrawal-main" },
        h("span", { class: "withdrawal-amount" }, plural("stars", w.amount)),
        h("span", { class: "withdrawal-meta" }, [w.method, w.destination, formatShortDate(w.created_at)].filter(Boolean).join(" · "))),
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
    } catch {
      /* keep what we had */
    }
    renderForm();
  }

  if (info) renderForm();
  else reloadInfo();
  loadList();
  return { el, title: t("withdrawals_title") };
}
