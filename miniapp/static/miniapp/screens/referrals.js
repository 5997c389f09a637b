// Referrals: the invite link (copy, share to a Telegram chat), invited friends, earnings.

import { clear, h, icon, uid } from "../dom.js";
import { formatNumber, plural, t } from "../i18n.js";
import { errorBlock, loadingBlock, screenEl } from "./common.js";

export function referralsScreen(ctx) {
  const body = h("div", { class: "screen-body" }, loadingBlock());
  const el = screenEl("referrals", body);

  function share(info) {
    const url = `https://t.me/share/url?url=${encodeURIComponent(info.link)}&text=${encodeURIComponent(t("invite_share_text"))}`;
    ctx.tg.openTelegramLink(url);
  }

  async function copy(info, button) {
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
    button.querySelector(".btn-text").textContent = t("copied");
    setTimeout(() => { button.querySelector(".btn-text").textContent = t("copy"); }, 2000);
  }

  function render(info) {
    const linkId = uid("invite");
    const percent = info.percent ?? info.referral_percent;
    const copyButton = h("button", { type: "button", class: "btn", onclick: () => copy(info, copyButton) },
      icon("copy", { size: 18 }), h("span", { class: "btn-text" }, t("copy")));
    clear(body).append(
      h("div", { class: "card" },
        h("p", {}, percent !== undefined ? t("friends_text", { percent: `${percent}%` }) : t("friends_text_plain")),
        h("div", { class: "field" },
          h("label", { for: linkId }, t("invite_link")),
          h("input", { id: linkId, class: "input invite-input", type: "text", readonly: true, value: info.link })),
        h("div", { class: "actions" },
          copyButton,
          h("button", { type: "button", class: "btn btn-primary share-invite", onclick: () => share(info) },
            icon("share", { size: 18 }), t("share")))),
      h("dl", { class: "stats" },
        h("div", { class: "card stat" }, h("dt", {}, t("invited")), h("dd", {}, formatNumber(info.invited ?? 0))),
        h("div", { class: "card stat" }, h("dt", {}, t("earnings")), h("dd", {}, plural("stars", info.earnings ?? 0)))),
      h("button", { type: "button", class: "btn btn-block", onclick: () => ctx.nav.push("withdrawals", { info }) },
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
  return { el, title: t("friends_title") };
}
