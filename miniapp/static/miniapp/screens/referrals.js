// Referrals: the invite link (copy, share to a Telegram chat), invited friends, earnings.

import { clear, h, icon, uid } from "../dom.js";
import { formatNumber, plural, t } from "../i18n.js";
import { errorBlock, loadingBlock, screenEl } from "./common.js";

export function referralsScreen(ctx) {
  const body = h("div", { class: "screen-body" }, loadingBlock());
  const el = screenEl("referrals", body);
  let flash = null;

  function share(info) {
    const url = `https://t.me/share/url?url=${encodeURIComponent(info.link)}&text=${encodeURIComponent(t("invite_share_text"))}`;
    ctx.tg.openTelegramLink(url);
  }

  async function copy(info, button) {
    const label = button.querySelector(".btn-text");
    try {
      await navigator.clipboard.writeText(info.link);
    } catch {
      // No clipboard permission (some webviews): select the text so the user can copy it.
      const input = el.querySelector(".invite-input");
      input.focus();
      input.select();
      return;
    }
    ctx.tg.haptic("success");
    label.textContent = t("copied");
    clearTimeout(flash);
    flash = setTimeout(() => { label.textContent = t("copy"); }, 2000);
  }

  function render(info) {
    const linkId = uid("invite");
    const copyButton = h("button", { type: "button", class: "btn", onclick: () => copy(info, copyButton) },
      icon("copy", { size: 18 }), h("span", { class: "btn-text", "aria-live": "polite" }, t("copy")));
    const invite = info.link
      ? [
        h("div", { class: "field" },
          h("label", { for: linkId }, t("invite_link")),
          h("input", { id: linkId, class: "input invite-input", type: "text", readonly: true, value: info.link })),
        h("div", { class: "actions" },
          copyButton,
          h("button", { type: "button", class: "btn btn-primary share-invite", onclick: () => share(info) },
            icon("share", { size: 18 }), t("share"))),
      ]
      : [h("p", { class: "hint invite-missing" }, t("invite_no_link", { code: info.code }))];
    clear(body).append(
      h("div", { class: "card" },
        h("p", {}, info.percent !== undefined ? t("friends_text", { percent: `${info.percent}%` }) : t("friends_text_plain")),
        ...invite),
      h("dl", { class: "stats" },
        h("div", { class: "card stat" }, h("dt", {}, t("invited")), h("dd", { class: "stat-invited" }, formatNumber(info.invited ?? 0))),
        h("div", { class: "card stat" }, h("dt", {}, t("earnings")), h("dd", { class: "stat-earnings" }, plural("stars", info.earnings ?? 0)))),
      h("button", { type: "button", class: "btn btn-block open-withdrawals", onclick: () => ctx.nav.push("withdrawals", { info }) },
        t("withdraw")),
    );
  }

  async function load() {
    clear(body).append(loadingBlock());
    try {
      render(await ctx.api.get("referrals"));
    } catch (error) {
      clear(body).append(errorBlock(error, load));
    }
  }

  load();
  return {
    el,
    title: t("friends_title"),
    destroy() {
      clearTimeout(flash);
    },
  };
}
