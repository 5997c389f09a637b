// History: the user's generations, newest first, over the API's cursor pages (loaded as
// the list scrolls, or with the "Load more" button), filtered by status and kind.

import { clear, h, icon, uid } from "../dom.js";
import { formatShortDate, t } from "../i18n.js";
import { credits, emptyBlock, errorBlock, isVideoResult, loadingBlock, screenEl, statusBadge } from "./common.js";

const STATUSES = ["pending", "processing", "completed", "failed", "cancelled"];
const KINDS = ["image", "video"];
const ACTIVE = new Set(["pending", "processing"]);

export function historyScreen(ctx) {
  const filters = { status: "", kind: "" };
  const list = h("ul", { class: "history-list", "aria-label": t("history_title") });
  const footer = h("div", { class: "list-footer" });
  const statusId = uid("filter-status");
  const kindId = uid("filter-kind");

  function filterSelect(id, key, values, labelOf) {
    const select = h("select", { id, class: "input", dataset: { filter: key } },
      h("option", { value: "" }, t("filter_all")),
      values.map((value) => h("option", { value }, labelOf(value))));
    select.addEventListener("change", () => {
      filters[key] = select.value;
      reset();
    });
    return select;
  }

  const el = screenEl(
    "history",
    h("div", { class: "screen-body" },
      h("div", { class: "filters" },
        h("div", { class: "field" }, h("label", { for: statusId }, t("filter_status")),
          filterSelect(statusId, "status", STATUSES, (s) => t(`status_${s}`))),
        h("div", { class: "field" }, h("label", { for: kindId }, t("filter_kind")),
          filterSelect(kindId, "kind", KINDS, (k) => t(k === "video" ? "kind_video" : "kind_image")))),
      list,
      footer),
  );

  let next = null; // the next page's URL, null at the end
  let loading = false;
  let run = 0; // bumps on a filter change, so a late page of old filters is dropped
  let shownOnce = false;
  const rows = new Map(); // id -> li

  function modelName(slug) {
    return ctx.store.models?.find((m) => m.slug === slug)?.name || slug;
  }

  function thumb(g) {
    if (g.status === "completed" && g.result?.url && !isVideoResult(g)) {
      return h("img", { class: "thumb", src: g.result.url, alt: "", loading: "lazy", decoding: "async", width: "64", height: "64" });
    }
    return h("span", { class: ["thumb", "thumb-icon"] }, icon(g.kind === "video" ? "video" : "image", { size: 24 }));
  }

  function row(g) {
    return h("li", { dataset: { id: String(g.id), status: g.status } },
      h("button", {
        type: "button",
        class: "history-item",
        "aria-label": t("history_item_label", { status: t(`status_${g.status}`), prompt: g.prompt || t("no_prompt") }),
        onclick: () => ctx.nav.push("generation", { generation: g }),
      },
      thumb(g),
      h("span", { class: "history-main" },
        h("span", { class: "history-prompt" }, g.prompt || t("no_prompt")),
        h("span", { class: "history-meta" }, `${modelName(g.model)} · ${formatShortDate(g.created_at)}`)),
      h("span", { class: "history-side" }, statusBadge(g.status), h("span", { class: "history-credits" }, credits(g.credits_charged)))));
  }

  function renderFooter(error) {
    clear(footer);
    if (error) {
      footer.append(errorBlock(error, () => loadMore()));
    } else if (loading) {
      footer.append(loadingBlock());
    } else if (next) {
      // Scrolling near it loads the next page; keyboard and screen-reader users press it.
      footer.append(h("button", { type: "button", class: "btn btn-block load-more", onclick: () => loadMore() }, t("load_more")));
    } else if (!rows.size) {
      footer.append(emptyBlock(filters.status || filters.kind ? t("history_empty_filtered") : t("history_empty")));
    } else {
      footer.append(h("p", { class: "list-end" }, t("nothing_more")));
    }
  }

  async function loadMore(first = false) {
    if (loading || (!first && !next)) return;
    const myRun = run;
    loading = true;
    renderFooter();
    try {
      const page = first
        ? await ctx.api.get("generations", { query: filters })
        : await ctx.api.get(next);
      if (myRun !== run) return;
      for (const g of page.results || []) {
        if (rows.has(g.id)) continue;
        const li = row(g);
        rows.set(g.id, li);
        list.append(li);
      }
      next = page.next || null;
      loading = false;
      renderFooter();
      // A short page leaves the end in view, which the observer does not report again.
      if (next && !el.hidden && footer.getBoundingClientRect().top < window.innerHeight + 600) loadMore();
    } catch (error) {
      if (myRun !== run) return;
      loading = false;
      renderFooter(error);
    }
  }

  function reset() {
    run += 1;
    loading = false;
    next = null;
    rows.clear();
    clear(list);
    loadMore(true);
  }

  // Load the next page a screen ahead of the end of the list.
  const observer = new IntersectionObserver(
    (entries) => {
      if (entries.some((e) => e.isIntersecting) && next && !loading && !el.hidden) loadMore();
    },
    { rootMargin: "0px 0px 600px 0px" },
  );
  observer.observe(footer);

  // Back from a generation: rows that were in progress may have finished since.
  async function refreshActive() {
    for (const [id, li] of rows) {
      if (!ACTIVE.has(li.dataset.status)) continue;
      try {
        const g = await ctx.api.get(`generations/${id}`);
        const fresh = row(g);
        li.replaceWith(fresh);
        rows.set(id, fresh);
      } catch {
        /* keep the old row; the next visit tries again */
      }
    }
  }

  if (!ctx.store.models) ctx.store.loadModels().catch(() => {});
  reset();

  return {
    el,
    title: t("history_title"),
    onShow() {
      if (shownOnce) refreshActive();
      shownOnce = true;
    },
    destroy() {
      run += 1;
      observer.disconnect();
    },
  };
}
