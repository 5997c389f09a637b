// The create screen: photos (for a model that takes them), prompt, the model's
// parameters, the quoted price and balance, and the submit that never costs twice.
//
// Money safety: one idempotency key per user intent (this model, prompt, parameters and
// photos), made with crypto.randomUUID() at the first submit and reused for every retry
// of that intent: automatic retries after a lost answer and the user's own "try again".
// If the server did start the generation, the repeat gets 409 DUPLICATE_REQUEST with it,
// and nothing is charged twice. Changing the prompt, a parameter or a photo is a new
// intent, new key.
//
// The price follows the parameters and photos: each change asks POST
// /api/generations/quote (debounced); only the answer to the latest question counts, and
// a start waits for it: a price that changed is shown before anything is charged.

import { clear, h, uid } from "../dom.js";
import { formatWait, t } from "../i18n.js";
import { credits, errorText, kindBadge, screenEl } from "./common.js";
import { photoPicker } from "./photos.js";

// The API's limit (GENERATION_PROMPT_MAX_LENGTH), which the page states; this only if it does not.
const PROMPT_MAX_LENGTH_DEFAULT = 2000;
const QUOTE_DELAY_MS = 250;
// The price never depends on the prompt, which a quote checks as a start does: a stand-in
// keeps an empty or over-long one (the user still typing) from hiding the price.
const QUOTE_PROMPT = "price";

function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // randomUUID needs a secure context; a phone testing over plain http on a LAN has none.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function charCount(text) {
  return [...text].length; // code points, as the server counts them
}

function paramLabel(name) {
  const key = `param_${name}`;
  const text = t(key);
  return text === key ? name.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase()) : text;
}

/** "portrait_16_9" -> "Portrait 16:9", "square_hd" -> "Square HD"; "16:9" and 720p stay. */
function choiceLabel(value) {
  if (typeof value !== "string" || !/^[a-z]/.test(value)) return String(value);
  const words = value.replace(/_(\d+)_(\d+)$/, " $1:$2").split("_");
  return words
    .map((word, i) => {
      if (word === "hd") return "HD";
      const key = `choice_${word}`;
      const text = t(key);
      if (text !== key) return i ? text.toLowerCase() : text;
      return i ? word : word.charAt(0).toUpperCase() + word.slice(1);
    })
    .join(" ");
}

/** `images`: photos already uploaded, [{upload, url}] (a result to animate). */
export function createScreen(ctx, { model, images = [] }) {
  const maxLength = Number(document.body.dataset.promptMaxLength) || PROMPT_MAX_LENGTH_DEFAULT;
  const draftKey = `nanogen:draft:${model.slug}`;
  const draft = readDraft();
  const range = model.inputs?.images || { min: 0, max: 0 };
  const photos = range.max > 0 ? photoPicker(ctx, { ...range, ready: images, onChange: inputsChanged }) : null;

  // --- prompt ---
  const promptId = uid("prompt");
  const counterId = uid("counter");
  const promptErrorId = uid("prompt-error");
  const prompt = h("textarea", {
    id: promptId,
    class: "prompt",
    rows: "5",
    placeholder: t("prompt_placeholder"),
    "aria-describedby": `${counterId} ${promptErrorId}`,
    autocomplete: "off",
    enterkeyhint: "done",
    oninput: () => {
      renderCounter();
      saveDraft();
      clearMessage();
    },
  });
  prompt.value = draft.prompt || "";
  const counter = h("span", { id: counterId, class: "counter" });
  const optional = h("span", { class: "hint", hidden: true }, ` ${t("prompt_optional")}`);
  const promptError = h("p", { id: promptErrorId, class: "field-error", "aria-live": "polite" });

  // --- parameters ---
  const controls = {};
  const paramFields = [];
  const withoutImages = []; // [name, field]: parameters not used with photos
  for (const [name, spec] of Object.entries(model.params || {})) {
    const id = uid(`param-${name}`);
    const saved = draft.params?.[name];
    if (spec.type === "choice" && Array.isArray(spec.choices)) {
      const select = h("select", { id, class: "input", dataset: { param: name } },
        spec.choices.map((choice) => h("option", { value: String(choice) }, choiceLabel(choice))));
      const initial = saved ?? spec.default ?? spec.choices[0];
      select.value = String(initial);
      select.addEventListener("change", paramChanged);
      controls[name] = () => {
        const match = spec.choices.find((c) => String(c) === select.value);
        return match === undefined ? select.value : match;
      };
      paramFields.push(h("div", { class: "field" }, h("label", { for: id }, paramLabel(name)), select));
    } else if (spec.type === "integer") {
      const hintId = uid("hint");
      const input = h("input", {
        id,
        class: "input",
        type: "number",
        inputmode: "numeric",
        step: "1",
        min: spec.min ?? false,
        max: spec.max ?? false,
        "aria-describedby": spec.min !== undefined && spec.max !== undefined ? hintId : false,
        dataset: { param: name },
      });
      input.value = String(saved ?? spec.default ?? spec.min ?? "");
      input.addEventListener("input", paramChanged);
      controls[name] = () => (input.value === "" ? null : Number(input.value));
      paramFields.push(h("div", { class: "field" },
        h("label", { for: id }, paramLabel(name)),
        input,
        spec.min !== undefined && spec.max !== undefined
          ? h("span", { id: hintId, class: "hint" }, t("param_range", { min: spec.min, max: spec.max }))
          : null));
    } else if (spec.type === "boolean") {
      const input = h("input", { id, type: "checkbox", class: "checkbox", dataset: { param: name } });
      input.checked = Boolean(saved ?? spec.default ?? false);
      input.addEventListener("change", paramChanged);
      controls[name] = () => input.checked;
      paramFields.push(h("div", { class: "field field-check" }, input, h("label", { for: id }, paramLabel(name))));
    }
    if (spec.with_images === false && controls[name]) withoutImages.push([name, paramFields.at(-1)]);
  }

  // --- price, balance, messages ---
  const summary = h("dl", { class: "summary", "aria-live": "polite" });
  const quoteMessage = h("p", { class: "quote-error", role: "status" });
  const message = h("div", { class: "form-message", "aria-live": "assertive" });

  const el = screenEl(
    "create",
    h("div", { class: "screen-body" },
      h("div", { class: "card model-summary" },
        h("div", { class: "model-head" }, h("h2", { class: "model-name" }, model.name), kindBadge(model.kind)),
        model.description ? h("p", { class: "model-description" }, model.description) : null),
      photos?.el,
      h("form", { class: "card form", novalidate: true, onsubmit: (event) => { event.preventDefault(); submit(); } },
        h("div", { class: "field" },
          h("div", { class: "label-row" }, h("label", { for: promptId }, t("prompt_label"), optional), counter),
          prompt,
          promptError),
        paramFields.length ? h("fieldset", { class: "params" }, h("legend", {}, t("params_title")), paramFields) : null,
        // Enter in a field submits like the main button does; hidden, the MainButton is the visible one.
        h("button", { type: "submit", class: "visually-hidden", tabindex: "-1", "aria-hidden": "true" }, t("generate_for", { price: "" }))),
      h("div", { class: "card" }, summary, quoteMessage, message)),
  );

  // --- state ---
  let intent = null; // {key, fingerprint}
  let inFlight = false;
  let blockedUntil = 0;
  let countdown = null;
  let active = false;
  let destroyed = false;
  let price = model.price; // the latest quote's; first the catalog's (default parameters, no photos)
  let quoted = 0; // the latest quote asked; an older answer is stale
  let quoteTimer = null;
  const stop = new AbortController();

  function readDraft() {
    try {
      return JSON.parse(sessionStorage.getItem(draftKey) || "{}");
    } catch {
      return {};
    }
  }

  function saveDraft() {
    try {
      sessionStorage.setItem(draftKey, JSON.stringify({ prompt: prompt.value, params: currentParams() }));
    } catch {
      /* storage full or disabled: the draft is a convenience */
    }
  }

  function clearDraft() {
    try {
      sessionStorage.removeItem(draftKey);
    } catch {
      /* ignore */
    }
  }

  function imageIds() {
    return photos ? photos.ids() : [];
  }

  function currentParams() {
    const params = {};
    const skipped = imageIds().length ? new Set(withoutImages.map(([name]) => name)) : new Set();
    for (const [name, read] of Object.entries(controls)) {
      if (skipped.has(name)) continue;
      const value = read();
      if (value !== null && value !== "") params[name] = value;
    }
    return params;
  }

  function renderCounter() {
    const count = charCount(prompt.value);
    counter.textContent = t("prompt_counter", { count, max: maxLength });
    const over = count > maxLength;
    counter.classList.toggle("is-over", over);
    prompt.setAttribute("aria-invalid", over ? "true" : "false");
    promptError.textContent = over ? t("prompt_too_long", { max: maxLength }) : "";
  }

  function renderSummary() {
    const balance = ctx.store.me?.credits ?? 0;
    const rows = [
      [t("price_label"), credits(price)],
      [t("balance_label"), credits(balance)],
    ];
    clear(summary).append(...rows.map(([term, value]) => h("div", { class: "summary-row" }, h("dt", {}, term), h("dd", {}, value))));
    if (balance < price) {
      summary.append(
        h("div", { class: "summary-warning" },
          h("span", {}, t("not_enough", { missing: credits(price - balance) })),
          h("button", { type: "button", class: "btn btn-small", onclick: () => ctx.nav.push("balance", {}) }, t("top_up"))),
      );
    }
  }

  function renderMain() {
    if (!active || destroyed) return;
    const waiting = blockedUntil > Date.now();
    const text = inFlight
      ? t("sending")
      : waiting
        ? t("retry_in", { time: formatWait((blockedUntil - Date.now()) / 1000) })
        : t("generate_for", { price: credits(price) });
    // Photos still uploading, or fewer than the model needs: the photos card says why.
    const ready = !photos?.problem();
    ctx.tg.mainButton.set({ visible: true, text, enabled: ready && !inFlight && !waiting, progress: inFlight });
  }

  // --- the price ---

  function quoteSoon() {
    clearTimeout(quoteTimer);
    summary.setAttribute("aria-busy", "true");
    quoteTimer = setTimeout(quote, QUOTE_DELAY_MS);
  }

  async function quote() {
    const asked = ++quoted;
    const body = { model: model.slug, prompt: QUOTE_PROMPT, params: currentParams() };
    if (imageIds().length) body.images = imageIds();
    try {
      const answer = await ctx.api.post("generations/quote", body, { signal: stop.signal });
      if (asked !== quoted) return; // a later change asked again: this price is not theirs
      price = answer.price;
      quoteMessage.textContent = "";
      if (ctx.store.me && ctx.store.me.credits !== answer.balance) ctx.store.setMe({ ...ctx.store.me, credits: answer.balance });
    } catch (error) {
      if (asked !== quoted || stop.signal.aborted) return;
      quoteMessage.textContent = t("price_error", { message: detailsText(error) || errorText(error) });
      markFields(error.details);
    }
    summary.removeAttribute("aria-busy");
    renderSummary();
    renderMain();
  }

  /** A VALIDATION_ERROR's field messages as one line, parameters by their labels. */
  function detailsText(error) {
    const parts = [];
    for (const [field, messages] of Object.entries(error.details || {})) {
      if (field === "params" && messages && typeof messages === "object" && !Array.isArray(messages)) {
        for (const [name, inner] of Object.entries(messages)) parts.push(`${paramLabel(name)}: ${[inner].flat(Infinity).join(" ")}`);
      } else if (field !== "prompt") { // the prompt's own message is under it
        parts.push([messages].flat(Infinity).join(" "));
      }
    }
    return error.code === "VALIDATION_ERROR" ? parts.join(" ") : "";
  }

  function paramChanged() {
    saveDraft();
    clearMessage();
    quoteSoon();
  }

  /** The photos changed: parameters not used with photos hide, the prompt may become
   * optional, the price and the main button follow. */
  function inputsChanged() {
    const withImages = imageIds().length > 0;
    for (const [, field] of withoutImages) field.hidden = withImages;
    optional.hidden = !promptOptional();
    clearMessage();
    quoteSoon();
    renderMain();
  }

  function promptOptional() {
    return Boolean(model.inputs?.prompt_optional_with_images) && imageIds().length > 0;
  }

  function showMessage(text, { action } = {}) {
    clear(message).append(
      h("p", { class: "message-error", role: "alert" }, text),
      action ? h("button", { type: "button", class: "btn btn-small", onclick: action.run }, action.label) : null,
    );
  }

  function clearMessage() {
    clear(message);
    for (const field of el.querySelectorAll("[aria-invalid='true']")) {
      if (field !== prompt) field.setAttribute("aria-invalid", "false");
    }
  }

  function blockFor(seconds) {
    blockedUntil = Date.now() + seconds * 1000;
    clearInterval(countdown);
    countdown = setInterval(() => {
      if (Date.now() >= blockedUntil) {
        clearInterval(countdown);
        countdown = null;
        clearMessage();
      }
      renderMain();
    }, 1000);
    renderMain();
  }

  function markFields(details) {
    for (const [field, messages] of Object.entries(details || {})) {
      if (field === "prompt") {
        promptError.textContent = [messages].flat(Infinity).join(" ");
        prompt.setAttribute("aria-invalid", "true");
      } else if (field === "params" && messages && typeof messages === "object" && !Array.isArray(messages)) {
        for (const name of Object.keys(messages)) {
          el.querySelector(`[data-param="${CSS.escape(name)}"]`)?.setAttribute("aria-invalid", "true");
        }
      }
    }
  }

  function handleError(error) {
    ctx.tg.haptic("error");
    switch (error.code) {
      case "INSUFFICIENT_CREDITS": {
        const details = error.details || {};
        if (typeof details.balance === "number" && ctx.store.me) ctx.store.setMe({ ...ctx.store.me, credits: details.balance });
        ctx.nav.push("balance", { need: { price: details.price ?? price, balance: details.balance ?? ctx.store.me?.credits ?? 0 } });
        return;
      }
      case "DUPLICATE_REQUEST":
        intent = null;
        clearDraft();
        if (error.body?.generation) {
          ctx.toast(t("duplicate_shown"));
          ctx.nav.replace("generation", { generation: error.body.generation });
        } else {
          showMessage(errorText(error));
        }
        return;
      case "RATE_LIMIT_EXCEEDED": {
        const wait = error.retryAfter ?? 60;
        showMessage(t("rate_limited", { time: formatWait(wait) }));
        blockFor(wait);
        return;
      }
      case "MAX_ACTIVE_GENERATIONS": {
        const action = { label: t("open_history"), run: () => ctx.nav.tab("history") };
        if (error.retryAfter) {
          showMessage(t("max_active_wait", { time: formatWait(error.retryAfter) }), { action });
          blockFor(error.retryAfter);
        } else {
          showMessage(t("max_active"), { action });
        }
        return;
      }
      case "IDEMPOTENCY_KEY_REUSED":
        intent = null;
        showMessage(t("key_reused"));
        return;
      case "MODEL_UNAVAILABLE":
        ctx.store.models = null;
        showMessage(error.message || t("model_unavailable"), { action: { label: t("catalog_title"), run: () => ctx.nav.tab("catalog") } });
        return;
      case "VALIDATION_ERROR":
        showMessage(detailsText(error) || error.message || t("fix_fields"));
        markFields(error.details);
        return;
      case "AUTH_EXPIRED":
      case "AUTH_INVALID":
      case "AUTH_REQUIRED":
      case "USER_BANNED":
        return; // the app shows its gate
      default:
        // A network error keeps the intent (and its key): "try again" repeats it safely.
        showMessage(errorText(error));
    }
  }

  async function submit() {
    if (inFlight || blockedUntil > Date.now() || photos?.problem()) return;
    clearMessage();
    const text = prompt.value.trim();
    if (!text && !promptOptional()) {
      promptError.textContent = t("prompt_required");
      prompt.setAttribute("aria-invalid", "true");
      prompt.focus();
      return;
    }
    if (charCount(text) > maxLength) {
      renderCounter();
      prompt.focus();
      return;
    }
    const payload = { model: model.slug, prompt: text, params: currentParams() };
    if (imageIds().length) payload.images = imageIds();
    const fingerprint = JSON.stringify(payload);
    if (!intent || intent.fingerprint !== fingerprint) intent = { key: newKey(), fingerprint };

    inFlight = true;
    renderMain();
    try {
      // A price still being asked for: the user pays what the button said, or sees the new price first.
      if (summary.hasAttribute("aria-busy")) {
        const shown = price;
        clearTimeout(quoteTimer);
        await quote();
        if (price !== shown) {
          showMessage(t("price_changed", { price: credits(price) }));
          return;
        }
      }
      const generation = await ctx.api.post("generations", { ...payload, idempotency_key: intent.key }, { retries: 3 });
      intent = null;
      clearDraft();
      ctx.tg.haptic("success");
      ctx.store.refreshMe().catch(() => {});
      ctx.nav.replace("generation", { generation });
    } catch (error) {
      if (!destroyed) handleError(error);
    } finally {
      inFlight = false;
      renderMain();
    }
  }

  const unsubscribe = ctx.store.onMe(renderSummary);
  renderCounter();
  renderSummary();
  if (photos) inputsChanged();
  else quoteSoon();

  return {
    el,
    title: t("create_title"),
    onShow() {
      active = true;
      renderMain();
      renderSummary();
    },
    onHide() {
      active = false;
    },
    onMain: submit,
    destroy() {
      destroyed = true;
      active = false;
      clearInterval(countdown);
      clearTimeout(quoteTimer);
      stop.abort(new DOMException("left the screen", "AbortError"));
      photos?.destroy();
      unsubscribe();
    },
  };
}
