// One interface to Telegram's Mini App API, whether the page runs inside Telegram or not.
//
// Inside Telegram, telegram-web-app.js provides window.Telegram.WebApp and we use it for
// everything (native MainButton and BackButton, invoices, theme). Outside Telegram (a
// browser opening the devlogin URL, or when telegram.org cannot be reached) the page
// still works: init data comes from the URL fragment (#tgWebAppData=...) the way Telegram
// passes it, the theme follows the browser's light or dark preference, and the main and
// back buttons are ordinary buttons on the page.

const STORAGE_KEY = "nanogen:initParams";

const LIGHT = {
  bg_color: "#ffffff",
  secondary_bg_color: "#f1f2f6",
  section_bg_color: "#ffffff",
  text_color: "#111318",
  hint_color: "#6f7580",
  subtitle_text_color: "#6f7580",
  link_color: "#2481cc",
  accent_text_color: "#2481cc",
  button_color: "#2481cc",
  button_text_color: "#ffffff",
  destructive_text_color: "#d93a3a",
  section_separator_color: "#e3e5ea",
  header_bg_color: "#ffffff",
};

const DARK = {
  bg_color: "#17212b",
  secondary_bg_color: "#0e1621",
  section_bg_color: "#17212b",
  text_color: "#f5f5f5",
  hint_color: "#8b9aa8",
  subtitle_text_color: "#8b9aa8",
  link_color: "#6ab3f3",
  accent_text_color: "#6ab3f3",
  button_color: "#5288c1",
  button_text_color: "#ffffff",
  destructive_text_color: "#ec3942",
  section_separator_color: "#2b3945",
  header_bg_color: "#17212b",
};

function hashParams() {
  const hash = window.location.hash.replace(/^#/, "");
  const params = new URLSearchParams(hash);
  const found = {};
  for (const key of ["tgWebAppData", "tgWebAppThemeParams", "tgWebAppPlatform", "tgWebAppVersion"]) {
    if (params.has(key)) found[key] = params.get(key);
  }
  if (found.tgWebAppData) {
    // Keep them for reloads, as telegram-web-app.js does, and take the signed data out
    // of the address bar so it is not shared by accident with a copied link.
    try {
      sessionStorage.setItem(STORAGE_KEY, JSON.stringify(found));
    } catch {
      /* private mode: reloads will need the link again */
    }
    history.replaceState(null, "", window.location.pathname + window.location.search);
    return found;
  }
  try {
    return JSON.parse(sessionStorage.getItem(STORAGE_KEY) || "{}");
  } catch {
    return {};
  }
}

function parseUser(initData) {
  try {
    const raw = new URLSearchParams(initData).get("user");
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

function parseThemeParams(raw) {
  try {
    const value = raw ? JSON.parse(raw) : null;
    return value && typeof value === "object" ? value : null;
  } catch {
    return null;
  }
}

/** Relative luminance of a #rrggbb colour, to tell a dark theme from a light one. */
export function isDarkColor(hex) {
  const m = /^#?([0-9a-f]{6})$/i.exec(String(hex || "").trim());
  if (!m) return false;
  const n = parseInt(m[1], 16);
  const [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.35;
}

function createTelegram() {
  const real = window.Telegram?.WebApp;
  // telegram-web-app.js also loads in a plain browser; it then reports platform "unknown"
  // and its buttons and invoices do nothing. Only a real client counts as "in Telegram".
  const inTelegram = Boolean(real && real.platform && real.platform !== "unknown" && real.initData);
  const fromHash = inTelegram ? {} : hashParams();
  const initData = (real && real.initData) || fromHash.tgWebAppData || "";
  const user = (inTelegram && real.initDataUnsafe?.user) || parseUser(initData);
  const hashTheme = parseThemeParams(fromHash.tgWebAppThemeParams);
  const darkQuery = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  const themeListeners = new Set();
  // Telegram Web frames the page; a frame has no use for window.location tricks.
  const framed = Boolean(inTelegram && window.Telegram.WebView?.isIframe);

  /** Whether the client speaks Bot API `v`: every SDK call below is gated on the version
   * that brought it (the SDK warns, or throws, on an older client). */
  function version(v) {
    return Boolean(inTelegram && typeof real.isVersionAtLeast === "function" && real.isVersionAtLeast(v));
  }
  // The BackButton came with 6.1: a 6.0 client gets the page's own back button.
  const nativeBack = version("6.1");

  function theme() {
    if (inTelegram) {
      const params = { ...(real.colorScheme === "dark" ? DARK : LIGHT), ...(real.themeParams || {}) };
      return { params, scheme: real.colorScheme === "dark" ? "dark" : "light" };
    }
    if (hashTheme && hashTheme.bg_color) {
      const scheme = isDarkColor(hashTheme.bg_color) ? "dark" : "light";
      return { params: { ...(scheme === "dark" ? DARK : LIGHT), ...hashTheme }, scheme };
    }
    const scheme = darkQuery?.matches ? "dark" : "light";
    return { params: scheme === "dark" ? DARK : LIGHT, scheme };
  }

  if (inTelegram) {
    real.onEvent("themeChanged", () => themeListeners.forEach((fn) => fn(theme())));
  } else if (darkQuery && !hashTheme) {
    darkQuery.addEventListener("change", () => themeListeners.forEach((fn) => fn(theme())));
  }

  // Buttons: native ones inside Telegram, page elements outside (created by the app).
  let pageMain = null;
  let pageBack = null;
  const mainHandlers = new Set();
  const backHandlers = new Set();
  const mainState = { text: "", visible: false, enabled: true, progress: false };

  function renderPageMain() {
    if (!pageMain) return;
    pageMain.hidden = !mainState.visible;
    pageMain.disabled = !mainState.enabled || mainState.progress;
    pageMain.setAttribute("aria-busy", mainState.progress ? "true" : "false");
    pageMain.classList.toggle("is-progress", mainState.progress);
    pageMain.querySelector(".main-button-text").textContent = mainState.text;
    document.body.classList.toggle("has-main-button", mainState.visible);
  }

  /** Telegram's MainButton. The SDK throws on an empty text (it trims it first), and
   * showProgress/hideProgress change is_active: so a button without text is hidden, and
   * is_active is set last. */
  function renderNativeMain() {
    const mb = real.MainButton;
    const text = String(mainState.text || "").trim().slice(0, 64);
    if (!mainState.visible || !text) {
      mb.hide();
      return;
    }
    mb.setText(text);
    if (mainState.progress) mb.showProgress(false);
    else mb.hideProgress();
    mb.setParams({ is_active: mainState.enabled && !mainState.progress, is_visible: true });
  }

  function openOutside(url) {
    window.open(url, "_blank", "noopener");
  }

  const api = {
    inTelegram,
    initData,
    user,
    platform: inTelegram ? real.platform : "web",

    attachPageButtons({ main, back }) {
      pageMain = main;
      pageBack = back;
      if (!inTelegram) {
        main.addEventListener("click", () => {
          if (main.disabled) return;
          mainHandlers.forEach((fn) => fn());
        });
      }
      if (!nativeBack) back.addEventListener("click", () => backHandlers.forEach((fn) => fn()));
      renderPageMain();
    },

    ready() {
      if (inTelegram) {
        real.ready();
        real.expand();
        // Lists scroll a lot: keep a vertical swipe from closing the app by accident.
        if (version("7.7")) real.disableVerticalSwipes();
      }
    },

    theme,
    onThemeChange(fn) {
      themeListeners.add(fn);
    },
    /** Telegram's own header and background in our colours, so the app looks native:
     * the header as our top bar (bg_color), the background as the page's. Both came
     * with 6.1, but a header colour as such only with 6.9: before that the client takes
     * the name of one of its theme colours. */
    paintChrome(params) {
      if (!version("6.1")) return;
      real.setHeaderColor(version("6.9") ? params.bg_color : "bg_color");
      real.setBackgroundColor(params.secondary_bg_color || params.bg_color);
      if (version("7.10")) {
        real.setBottomBarColor(params.bottom_bar_bg_color || params.secondary_bg_color || params.bg_color);
      }
    },

    mainButton: {
      /** state: {text, visible, enabled, progress}; only the given keys change. */
      set(state) {
        Object.assign(mainState, state);
        if (inTelegram) renderNativeMain();
        else renderPageMain();
      },
      onClick(fn) {
        mainHandlers.add(fn);
        if (inTelegram) real.MainButton.onClick(fn);
      },
      offClick(fn) {
        mainHandlers.delete(fn);
        if (inTelegram) real.MainButton.offClick(fn);
      },
    },

    backButton: {
      set(visible) {
        if (nativeBack) {
          if (visible) real.BackButton.show();
          else real.BackButton.hide();
        } else if (pageBack) {
          pageBack.hidden = !visible;
        }
      },
      onClick(fn) {
        backHandlers.add(fn);
        if (nativeBack) real.BackButton.onClick(fn);
      },
    },

    /** Resolves with Telegram's invoice status (paid, cancelled, failed or pending), or
     * "external" when the invoice opened elsewhere; rejects when it could not open. */
    openInvoice(link) {
      return new Promise((resolve) => {
        if (version("6.1")) {
          real.openInvoice(link, (status) => resolve(status));
          return;
        }
        // A plain browser or a 6.0 client cannot pay in place: Telegram opens the t.me
        // invoice link (Telegram Web in its own view, elsewhere the system hands it over).
        if (framed) real.openTelegramLink(link);
        else openOutside(link);
        resolve("external");
      });
    },

    openTelegramLink(url) {
      // Before 6.1 the SDK sends a webview's own page to t.me, leaving the app: a 6.0
      // webview gets a new window instead; Telegram Web takes it at any version.
      if (inTelegram && (framed || version("6.1"))) real.openTelegramLink(url);
      else openOutside(url);
    },

    openLink(url) {
      if (inTelegram) real.openLink(url);
      else openOutside(url);
    },

    /** Telegram's download dialog (8.0, https files only); false when the caller should
     * use a link. */
    downloadFile(url, fileName) {
      if (version("8.0") && new URL(url, window.location.href).protocol === "https:") {
        real.downloadFile({ url, file_name: fileName });
        return true;
      }
      if (inTelegram) {
        // Older clients cannot save from a webview; the system browser can.
        real.openLink(url);
        return true;
      }
      return false;
    },

    /** Whether Telegram's sheet for sending a prepared message to a chat exists (Bot API 8.0). */
    canShareMessage() {
      return inTelegram && version("8.0") && typeof real.shareMessage === "function";
    },

    /** Telegram's sheet for a prepared message (see canShareMessage): resolves true once the
     * user sent it to a chat, false when they closed the sheet. */
    shareMessage(preparedMessageId) {
      return new Promise((resolve) => real.shareMessage(preparedMessageId, (sent) => resolve(Boolean(sent))));
    },

    haptic(kind) {
      if (!version("6.1")) return;
      const hf = real.HapticFeedback;
      if (kind === "success" || kind === "error" || kind === "warning") hf.notificationOccurred(kind);
      else if (kind === "select") hf.selectionChanged();
      else hf.impactOccurred("light");
    },

    close() {
      if (inTelegram) real.close();
      else window.close();
    },
  };
  return api;
}

export const tg = createTelegram();
