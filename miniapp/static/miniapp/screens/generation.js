// One generation: its status, polled with backoff until it is final, then the image or
// video with download and share; the reason and the refund when it failed.

import { clear, h, icon, sleep } from "../dom.js";
import { formatDate, t } from "../i18n.js";
import { credits, errorBlock, errorText, isVideoResult, loadingBlock, screenEl, statusBadge } from "./common.js";

const FINAL = new Set(["completed", "failed", "cancelled"]);
const POLL_FIRST_MS = 1000;
const POLL_MAX_MS = 8000;

function absolute(url) {
  return new URL(url, window.location.href).href;
}

function fileName(generation) {
  const path = new URL(generation.result.url, window.location.href).pathname;
  const ext = path.includes(".") ? path.slice(path.lastIndexOf(".")) : isVideoResult(generation) ? ".mp4" : ".png";
  return `nanogen-${generation.id}${ext}`;
}

export function generationScreen(ctx, params) {
  const body = h("div", { class: "screen-body" }, loadingBlock());
  const el = screenEl("generation", body);
  const stop = new AbortController();
  let generation = params.generation || null;
  let cancelling = false;

  function modelName(slug) {
    return ctx.store.models?.find((m) => m.slug === slug)?.name || slug;
  }

  function resultView(g) {
    const url = g.result.url;
    const alt = t("gen_result_alt", { prompt: g.prompt });
    const isVideo = isVideoResult(g);
    const media = isVideo
      ? h("video", { class: "result-media", src: url, controls: true, playsinline: true, preload: "metadata", "aria-label": alt })
      : h("img", { class: "result-media", src: url, alt, loading: "lazy", decoding: "async" });
    const download = h("a", {
      class: "btn",
      href: url,
      download: fileName(g),
      onclick: (event) => {
        if (ctx.tg.downloadFile(absolute(url), fileName(g))) event.preventDefault();
      },
    }, icon("download", { size: 18 }), t("download"));
    const share = h("button", {
      type: "button",
      class: "btn",
      onclick: async () => {
        // Telegram 8.0+: the result itself, with a button that brings the friend to the bot.
        if (ctx.tg.canShareMessage()) {
          try {
            const prepared = await ctx.api.post(`generations/${g.id}/share`, {});
            if (await ctx.tg.shareMessage(prepared.prepared_message_id)) ctx.toast(t("shared"), { kind: "success" });
            return;
          } catch {
            /* no prepared message (Telegram did not answer): share the link instead */
          }
        }
        const link = absolute(url);
        if (!ctx.tg.inTelegram && navigator.share) {
          try {
            await navigator.share({ url: link, text: g.prompt });
            return;
          } catch {
            /* dismissed or unsupported: fall through to Telegram's share */
          }
        }
        ctx.tg.openTelegramLink(`https://t.me/share/url?url=${encodeURIComponent(link)}&text=${encodeURIComponent(g.prompt)}`);
      },
    }, icon("share", { size: 18 }), t("share"));
    return h("figure", { class: "result" }, media, h("div", { class: "actions" }, download, share));
  }

  function render() {
    const g = generation;
    const active = !FINAL.has(g.status);
    const status = h("div", { class: "gen-status", role: "status" },
      statusBadge(g.status),
      active ? h("span", { class: "spinner spinner-small", "aria-hidden": "true" }) : null,
      active ? h("p", { class: "gen-status-text" }, t(g.status === "pending" ? "gen_waiting" : "gen_working")) : null);

    const parts = [h("div", { class: "card" }, status)];
    if (g.status === "completed" && g.result?.url) {
      parts.push(h("div", { class: "card card-flush" }, resultView(g)));
    }
    if (g.status === "failed" || g.status === "cancelled") {
      parts.push(h("div", { class: "card notice notice-error" },
        g.status === "failed" ? h("p", {}, g.error?.message || t("gen_failed")) : null,
        g.refunded ? h("p", {}, t("gen_refunded", { credits: credits(g.credits_charged) })) : null));
    }
    parts.push(
      h("div", { class: "card" },
        h("blockquote", { class: "gen-prompt" }, g.prompt),
        h("dl", { class: "summary" },
          h("div", { class: "summary-row" }, h("dt", {}, t("gen_model")), h("dd", {}, modelName(g.model))),
          h("div", { class: "summary-row" }, h("dt", {}, t("gen_charged")), h("dd", {}, credits(g.credits_charged))),
          h("div", { class: "summary-row" }, h("dt", {}, t("gen_created")), h("dd", {}, formatDate(g.created_at))))),
    );
    if (active) {
      parts.push(h("button", { type: "button", class: "btn btn-danger btn-block", disabled: cancelling, onclick: cancel },
        t("gen_cancel")));
    } else {
      const model = ctx.store.models?.find((m) => m.slug === g.model);
      parts.push(h("button", {
        type: "button",
        class: "btn btn-primary btn-block",
        onclick: () => (model ? ctx.nav.replace("create", { model }) : ctx.nav.tab("catalog")),
      }, t("gen_again")));
    }
    clear(body).append(...parts);
  }

  async function cancel() {
    if (cancelling) return;
    cancelling = true;
    render();
    try {
      generation = await ctx.api.post(`generations/${generation.id}/cancel`, {});
      ctx.toast(t("gen_cancelled_toast"), { kind: "success" });
      ctx.store.refreshMe().catch(() => {});
    } catch (error) {
      if (error.code === "GENERATION_NOT_CANCELLABLE") {
        ctx.toast(t("gen_not_cancellable"));
        await refresh().catch(() => {});
      } else {
        ctx.toast(errorText(error), { kind: "error" });
      }
    } finally {
      cancelling = false;
      render();
    }
  }

  async function refresh() {
    generation = await ctx.api.get(`generations/${generation?.id ?? params.id}`, { signal: stop.signal, retries: 0 });
    render();
  }

  function whenVisible() {
    if (!document.hidden) return Promise.resolve();
    return new Promise((resolve) => {
      const onChange = () => {
        if (!document.hidden || stop.signal.aborted) {
          document.removeEventListener("visibilitychange", onChange);
          resolve();
        }
      };
      document.addEventListener("visibilitychange", onChange);
      stop.signal.addEventListener("abort", onChange, { once: true });
    });
  }

  // Poll until final: 1 s, then 1.5 times longer each time up to 8 s; a failed poll
  // (network) just waits longer. Paused while the app is in the background.
  async function poll() {
    let delay = POLL_FIRST_MS;
    const wasActive = generation && !FINAL.has(generation.status);
    while (!stop.signal.aborted && (!generation || !FINAL.has(generation.status))) {
      if (generation) {
        await sleep(delay, stop.signal);
        await whenVisible();
      }
      if (stop.signal.aborted) return;
      try {
        await refresh();
        delay = Math.min(POLL_MAX_MS, delay * 1.5);
      } catch (error) {
        if (stop.signal.aborted) return;
        if (!generation || error.status === 404) {
          clear(body).append(error.status === 404 ? errorBlock({ message: t("gen_not_found") }) : errorBlock(error, () => poll()));
          return;
        }
        delay = Math.min(POLL_MAX_MS, delay * 2);
      }
    }
    if (wasActive && generation) {
      ctx.tg.haptic(generation.status === "completed" ? "success" : "warning");
      ctx.store.refreshMe().catch(() => {});
    }
  }

  if (generation) render();
  // Model names come from the catalog; render again once it is there.
  if (!ctx.store.models) ctx.store.loadModels().then(() => generation && render(), () => {});
  poll().catch(() => {});

  return {
    el,
    title: t("gen_title"),
    destroy() {
      stop.abort(new DOMException("left the screen", "AbortError"));
    },
  };
}
