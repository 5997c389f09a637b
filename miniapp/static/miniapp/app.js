// NanoGen Mini App: start-up, theme, navigation, shared state. Screens live in screens/.

import { api, ApiError, configureApi } from "./api.js";
import { clear, h, icon } from "./dom.js";
import { formatNumber, language, plural, setLanguage, t } from "./i18n.js";
import { balanceScreen } from "./screens/balance.js";
import { catalogScreen } from "./screens/catalog.js";
import { createScreen } from "./screens/create.js";
import { generationScreen } from "./screens/generation.js";
import { historyScreen } from "./screens/history.js";
import { referralsScreen } from "./screens/referrals.js";
import { withdrawalsScreen } from "./screens/withdrawals.js";
import { tg } from "./telegram.js";

const SCREENS = {
  catalog: catalogScreen,
  create: createScreen,
  generation: generationScreen,
  history: historyScreen,
  balance: balanceScreen,
  referrals: referralsScreen,
  withdrawals: withdrawalsScreen,
};

const TABS = [
  { screen: "catalog", label: "tab_create", icon: "sparkles" },
  { screen: "history", label: "tab_history", icon: "history" },
  { screen: "balance", label: "tab_balance", icon: "wallet" },
  { screen: "referrals", label: "tab_friends", icon: "users" },
];

const appEl = document.getElementById("app");

// --- Theme ---------------------------------------------------------------------------

function applyTheme({ params, scheme }) {
  const root = document.documentElement;
  for (const [key, value] of Object.entries(params)) {
    if (typeof value === "string") root.style.setProperty(`--tg-${key.replace(/_/g, "-")}`, value);
  }
  root.dataset.scheme = scheme;
  root.style.setProperty("color-scheme", scheme);
  tg.paintChrome(params);
}

// --- Shared state --------------------------------------------------------------------

const listeners = new Set();
const store = {
  me: null,
  models: null,
  setMe(me) {
    store.me = me;
    listeners.forEach((fn) => fn(me));
  },
  onMe(fn) {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },
  async refreshMe() {
    const me = await api.get("me");
    store.setMe(me);
    return me;
  },
  async loadModels({ force = false } = {}) {
    if (!store.models || force) store.models = await api.get("models");
    return store.models;
  },
};

// --- Toasts --------------------------------------------------------------------------

let toastsEl = null;

function toast(text, { kind = "info", timeout = kind === "error" ? 7000 : 4000 } = {}) {
  if (!toastsEl) return;
  const item = h(
    "div",
    { class: ["toast", `toast-${kind}`], role: kind === "error" ? "alert" : "status" },
    h("span", { class: "toast-text" }, text),
    h("button", { type: "button", class: "toast-close", "aria-label": t("close"), onclick: () => item.remove() },
      icon("cross", { size: 16 })),
  );
  toastsEl.append(item);
  setTimeout(() => item.remove(), timeout);
}

// --- Navigation ----------------------------------------------------------------------
// A stack of live screens: going back shows the previous screen as it was (its scroll
// position, loaded pages, form). The tab bar shows on root screens only; deeper ones get
// Telegram's BackButton instead.

const stack = [];
let shell = null;

function mainButtonClick() {
  stack.at(-1)?.screen.onMain?.();
}

function activate(entry, { focus = true } = {}) {
  const { screen } = entry;
  for (const other of stack) other.screen.el.hidden = other !== entry;
  shell.title.textContent = screen.title;
  document.title = `${screen.title} · ${t("app_name")}`;
  tg.mainButton.set({ visible: false, progress: false, enabled: true, text: "" });
  tg.backButton.set(stack.length > 1);
  shell.tabbar.hidden = stack.length > 1;
  document.body.classList.toggle("has-tabbar", stack.length === 1);
  for (const button of shell.tabbar.querySelectorAll("button")) {
    const current = button.dataset.screen === stack[0].name;
    if (current) button.setAttribute("aria-current", "page");
    else button.removeAttribute("aria-current");
  }
  screen.onShow?.();
  window.scrollTo(0, entry.scrollY || 0);
  if (focus) shell.title.focus({ preventScroll: true });
}

function build(name, params) {
  const screen = SCREENS[name](ctx, params || {});
  shell.screens.append(screen.el);
  return { name, params, screen, scrollY: 0 };
}

function destroy(entry) {
  entry.screen.destroy?.();
  entry.screen.el.remove();
}

const nav = {
  push(name, params) {
    const top = stack.at(-1);
    if (top) {
      top.scrollY = window.scrollY;
      top.screen.onHide?.();
    }
    const entry = build(name, params);
    stack.push(entry);
    activate(entry);
  },
  /** Swap the top screen (a create screen becomes its generation's progress screen). */
  replace(name, params) {
    const top = stack.pop();
    if (top) {
      top.screen.onHide?.();
      destroy(top);
    }
    const entry = build(name, params);
    stack.push(entry);
    activate(entry);
  },
  back() {
    if (stack.length < 2) return;
    const top = stack.pop();
    top.screen.onHide?.();
    destroy(top);
    activate(stack.at(-1));
  },
  /** Open a root section; its screen is made fresh so it shows current data. */
  tab(name, params) {
    while (stack.length) {
      const entry = stack.pop();
      entry.screen.onHide?.();
      destroy(entry);
    }
    const entry = build(name, params);
    stack.push(entry);
    activate(entry);
  },
  depth: () => stack.length,
};

// --- Gates: screens shown instead of the app ------------------------------------------

function gate({ title, text, hint, action }) {
  stack.splice(0).forEach(destroy);
  tg.mainButton.set({ visible: false });
  tg.backButton.set(false);
  document.title = t("app_name");
  clear(appEl).append(
    h(
      "main",
      { class: "gate" },
      h("div", { class: "gate-icon" }, icon("telegram", { size: 48 })),
      h("h1", { class: "gate-title", tabindex: "-1" }, title),
      h("p", { class: "gate-text" }, text),
      hint ? h("p", { class: "gate-hint" }, hint, " ", h("code", {}, "python manage.py devlogin <telegram_id>")) : null,
      action ? h("button", { type: "button", class: "btn btn-primary", onclick: action.run }, action.label) : null,
    ),
  );
  appEl.querySelector(".gate-title").focus();
}

function authProblem(error) {
  if (error.code === "AUTH_EXPIRED") {
    gate({ title: t("expired_title"), text: t("expired_text"), action: { label: t("close"), run: () => tg.close() } });
  } else if (error.code === "USER_BANNED") {
    gate({ title: t("banned_title"), text: error.message });
  } else {
    gate({ title: t("gate_title"), text: t("gate_text") });
  }
}

// --- Shell -----------------------------------------------------------------------------

function buildShell() {
  const title = h("h1", { class: "topbar-title", tabindex: "-1" });
  const back = h("button", { type: "button", class: "topbar-back", "aria-label": t("back"), hidden: true },
    icon("back", { size: 22 }));
  const balance = h("button", { type: "button", class: "balance-chip", onclick: () => nav.tab("balance") });
  const screens = h("main", { class: "screens", id: "screens" });
  const mainButton = h("button", { type: "button", class: "main-button", hidden: true },
    h("span", { class: "spinner spinner-small", "aria-hidden": "true" }), h("span", { class: "main-button-text" }));
  const tabbar = h(
    "nav",
    { class: "tabbar", "aria-label": t("nav_label") },
    TABS.map((tab) =>
      h("button", { type: "button", class: "tab", dataset: { screen: tab.screen }, onclick: () => nav.tab(tab.screen) },
        icon(tab.icon, { size: 22 }), h("span", { class: "tab-label" }, t(tab.label))),
    ),
  );
  toastsEl = h("div", { class: "toasts", "aria-live": "polite" });
  clear(appEl).append(
    h("header", { class: "topbar" }, back, title, balance),
    screens,
    h("div", { class: "main-button-bar" }, mainButton),
    tabbar,
    toastsEl,
  );
  tg.attachPageButtons({ main: mainButton, back });
  shell = { title, balance, screens, tabbar };

  const renderBalance = (me) => {
    // The number alone keeps the title room on a 360 px screen; the label says what it is.
    const text = plural("credits", me.credits);
    balance.replaceChildren(icon("wallet", { size: 16 }), h("span", { "aria-hidden": "true" }, formatNumber(me.credits)));
    balance.setAttribute("aria-label", t("balance_chip", { credits: text }));
  };
  store.onMe(renderBalance);
  if (store.me) renderBalance(store.me);
}

// --- Start ---------------------------------------------------------------------------------

const ctx = { api, ApiError, store, nav, toast, tg, gate, authProblem };

async function start() {
  setLanguage(tg.user?.language_code || navigator.language);
  applyTheme(tg.theme());
  tg.onThemeChange(applyTheme);
  tg.ready();

  if (!tg.initData) {
    // The devlogin hint is for developers: only a DEBUG server shows it.
    gate({ title: t("gate_title"), text: t("gate_text"), hint: document.body.dataset.debug === "true" ? t("gate_dev_hint") : null });
    return;
  }
  configureApi({ root: document.body.dataset.apiRoot || "/api/", initData: tg.initData, onAuthProblem: authProblem });
  tg.mainButton.onClick(mainButtonClick);
  tg.backButton.onClick(() => nav.back());

  let me;
  try {
    me = await api.get("me");
  } catch (error) {
    if (error instanceof ApiError && ["AUTH_EXPIRED", "AUTH_INVALID", "AUTH_REQUIRED", "USER_BANNED"].includes(error.code)) {
      return; // the gate is already shown
    }
    gate({
      title: t("error_generic"),
      text: error.isNetwork ? t("error_network") : error.message || t("error_generic"),
      action: { label: t("retry"), run: () => window.location.reload() },
    });
    return;
  }
  if (me.language_code) setLanguage(me.language_code);
  store.setMe(me);
  buildShell();
  nav.tab("catalog");
  document.documentElement.dataset.ready = "true";
  document.documentElement.dataset.lang = language();
}

start().catch((error) => {
  // Never "Loading…" forever: whatever broke the start, the user gets a way out.
  console.error("NanoGen could not start", error);
  gate({
    title: t("error_generic"),
    text: t("error_generic"),
    action: { label: t("retry"), run: () => window.location.reload() },
  });
});
