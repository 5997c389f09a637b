// Test double of telegram-web-app.js, served by the browser tests in place of
// https://telegram.org/js/telegram-web-app.js: the page then runs as inside a Telegram
// client. It records every call in window.__telegramCalls; window.__tg lets a test press
// the native buttons, change the theme and answer the invoice sheet.
(function () {
  const calls = (window.__telegramCalls = []);
  const record = (name, ...args) => calls.push([name, ...args]);
  const hash = new URLSearchParams(location.hash.slice(1));
  const initData = hash.get("tgWebAppData") || "";
  let user = null;
  try {
    user = JSON.parse(new URLSearchParams(initData).get("user"));
  } catch (e) {
    user = null;
  }
  let themeParams = {};
  try {
    themeParams = JSON.parse(hash.get("tgWebAppThemeParams") || "{}");
  } catch (e) {
    themeParams = {};
  }
  const events = {};
  const mainClicks = new Set();
  const backClicks = new Set();
  let invoiceCallback = null;

  const MainButton = {
    text: "", isVisible: false, isActive: true, isProgressVisible: false,
    setParams(p) { record("MainButton.setParams", p); if ("text" in p) this.text = p.text; if ("is_active" in p) this.isActive = p.is_active; return this; },
    setText(t) { record("MainButton.setText", t); this.text = t; return this; },
    show() { record("MainButton.show"); this.isVisible = true; return this; },
    hide() { record("MainButton.hide"); this.isVisible = false; return this; },
    enable() { this.isActive = true; return this; },
    disable() { this.isActive = false; return this; },
    showProgress() { record("MainButton.showProgress"); this.isProgressVisible = true; return this; },
    hideProgress() { this.isProgressVisible = false; return this; },
    onClick(fn) { mainClicks.add(fn); return this; },
    offClick(fn) { mainClicks.delete(fn); return this; },
  };
  const BackButton = {
    isVisible: false,
    show() { record("BackButton.show"); this.isVisible = true; return this; },
    hide() { record("BackButton.hide"); this.isVisible = false; return this; },
    onClick(fn) { backClicks.add(fn); return this; },
    offClick(fn) { backClicks.delete(fn); return this; },
  };

  window.Telegram = {
    WebApp: {
      initData,
      initDataUnsafe: { user },
      platform: "android",
      version: "8.0",
      colorScheme: themeParams.bg_color && parseInt(themeParams.bg_color.slice(1, 3), 16) < 128 ? "dark" : "light",
      themeParams,
      MainButton,
      BackButton,
      HapticFeedback: { impactOccurred() {}, notificationOccurred() {}, selectionChanged() {} },
      isVersionAtLeast(v) { return parseFloat(v) <= 8.0; },
      ready() { record("ready"); },
      expand() { record("expand"); },
      close() { record("close"); },
      disableVerticalSwipes() { record("disableVerticalSwipes"); },
      setHeaderColor(c) { record("setHeaderColor", c); },
      setBackgroundColor(c) { record("setBackgroundColor", c); },
      setBottomBarColor(c) { record("setBottomBarColor", c); },
      onEvent(name, fn) { (events[name] = events[name] || []).push(fn); },
      offEvent(name, fn) { events[name] = (events[name] || []).filter((f) => f !== fn); },
      openInvoice(url, cb) { record("openInvoice", url); invoiceCallback = cb; },
      openTelegramLink(url) { record("openTelegramLink", url); },
      openLink(url) { record("openLink", url); },
      downloadFile(params) { record("downloadFile", params); },
    },
  };

  window.__tg = {
    clickMain() { if (MainButton.isVisible && MainButton.isActive) mainClicks.forEach((fn) => fn()); },
    // A tap delivered before the client greyed the button out: the page must still ignore it.
    clickMainRacing() { if (MainButton.isVisible) mainClicks.forEach((fn) => fn()); },
    clickBack() { if (BackButton.isVisible) backClicks.forEach((fn) => fn()); },
    mainButton() { return { text: MainButton.text, visible: MainButton.isVisible, active: MainButton.isActive, progress: MainButton.isProgressVisible }; },
    backVisible() { return BackButton.isVisible; },
    setTheme(params, scheme) {
      window.Telegram.WebApp.themeParams = params;
      window.Telegram.WebApp.colorScheme = scheme;
      (events.themeChanged || []).forEach((fn) => fn());
    },
    invoiceOpen() { return invoiceCallback !== null; },
    closeInvoice(status) { const cb = invoiceCallback; invoiceCallback = null; if (cb) cb(status); },
  };
})();
