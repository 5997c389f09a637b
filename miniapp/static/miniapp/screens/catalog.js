// The model catalog: what each model makes, what it costs, what it is good for.

import { clear, h, icon } from "../dom.js";
import { t } from "../i18n.js";
import { credits, emptyBlock, errorBlock, kindBadge, loadingBlock, screenEl } from "./common.js";

export function catalogScreen(ctx) {
  const list = h("ul", { class: "model-list", "aria-label": t("catalog_title") });
  const body = h("div", { class: "screen-body" }, loadingBlock());
  const el = screenEl("catalog", body);

  async function load(force = false) {
    clear(body).append(loadingBlock());
    let models;
    try {
      models = await ctx.store.loadModels({ force });
    } catch (error) {
      clear(body).append(errorBlock(error, () => load(true)));
      return;
    }
    clear(list);
    if (!models.length) {
      clear(body).append(emptyBlock(t("catalog_empty")));
      return;
    }
    for (const model of models) {
      list.append(
        h("li", {},
          h("button", {
            type: "button",
            class: "model-card",
            dataset: { model: model.slug },
            onclick: () => ctx.nav.push("create", { model }),
          },
          h("span", { class: "model-icon", "aria-hidden": "true" }, icon(model.kind === "video" ? "video" : "image", { size: 26 })),
          h("span", { class: "model-main" },
            h("span", { class: "model-head" },
              h("span", { class: "model-name" }, model.name),
              kindBadge(model.kind)),
            model.description ? h("span", { class: "model-description" }, model.description) : null),
          h("span", { class: "model-price" }, credits(model.price)))),
      );
    }
    clear(body).append(list);
  }

  load();
  return { el, title: t("catalog_title") };
}
