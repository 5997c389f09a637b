// Pieces several screens share.

import { h, icon } from "../dom.js";
import { formatWait, plural, t } from "../i18n.js";

export function screenEl(name, ...children) {
  return h("section", { class: ["screen", `screen-${name}`], dataset: { screen: name } }, ...children);
}

export function loadingBlock() {
  return h("div", { class: "loading", role: "status" },
    h("span", { class: "spinner", "aria-hidden": "true" }), h("span", { class: "visually-hidden" }, t("loading")));
}

export function emptyBlock(text) {
  return h("p", { class: "empty" }, text);
}

/** An inline error with a retry button, for a screen whose data did not load. */
export function errorBlock(error, retry) {
  return h("div", { class: "error-block", role: "alert" },
    icon("alert", { size: 28 }),
    h("p", {}, errorText(error)),
    retry ? h("button", { type: "button", class: "btn", onclick: retry }, t("retry")) : null);
}

/** The server's message for an error, or ours when there was no answer. */
export function errorText(error) {
  if (!error) return t("error_generic");
  if (error.isNetwork) return t("error_network");
  return error.message || t("error_generic");
}

export function kindBadge(kind) {
  return h("span", { class: ["badge", `badge-${kind}`] }, icon(kind === "video" ? "video" : "image", { size: 14 }),
    t(kind === "video" ? "kind_video" : "kind_image"));
}

export function statusBadge(status) {
  return h("span", { class: ["badge", `status-${status}`] }, t(`status_${status}`));
}

/** How a result is shown: by its content type (a "video" model may deliver an animated
 * GIF), by the generation's kind only when the type says nothing. */
export function isVideoResult(generation, item = generation.result) {
  const type = item?.content_type || "";
  if (type.startsWith("image/")) return false;
  if (type.startsWith("video/")) return true;
  return generation.kind === "video";
}

export function credits(n) {
  return plural("credits", n);
}

export { formatWait };
