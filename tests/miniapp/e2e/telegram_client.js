// The Telegram client side of the Mini App protocol, for the browser tests: what a real
// client answers to Telegram's own telegram-web-app.js, and a record of every event the
// page sends, so that tests assert on the protocol itself.
//
// Two transports, as Telegram's clients have them:
// - "weba" (Telegram Web A): this script runs in a page of the https://web.telegram.org
//   origin that frames the Mini App. The SDK posts {eventType, eventData} as JSON to
//   window.parent; the client answers with postMessage into the frame. The client also
//   draws the MainButton under the frame and the BackButton in its header.
// - "android" / "ios": this script runs in the Mini App's own page before its scripts (a
//   webview's injected object). The SDK calls TelegramWebviewProxy.postEvent(type, json);
//   the client answers by evaluating Telegram.WebView.receiveEvent(type, data) later.
//
// Installed as `installTelegramClient(config)`; the state is window.__telegramClient.
// config: {platform, version, themeParams, viewport: {width, height}, customStyle, appUrl (weba)}.

function installTelegramClient(config) {
  "use strict";

  function versionCompare(a, b) {
    const x = String(a).split(".").map((n) => parseInt(n, 10) || 0);
    const y = String(b).split(".").map((n) => parseInt(n, 10) || 0);
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
      if ((x[i] || 0) !== (y[i] || 0)) return (x[i] || 0) > (y[i] || 0) ? 1 : -1;
    }
    return 0;
  }
  const atLeast = (v) => versionCompare(config.version, v) >= 0;
  const isWeb = config.platform === "weba" || config.platform === "webk";

  // The first Bot API version whose clients understand each method (Telegram's Mini Apps
  // changelog). An older client ignores what it does not know, as real ones do; the event
  // is still recorded, with supported: false.
  const SINCE = {
    web_app_open_link: "6.1",
    web_app_open_tg_link: isWeb ? "6.0" : "6.1",
    web_app_open_invoice: "6.1",
    web_app_setup_back_button: "6.1",
    web_app_set_header_color: "6.1",
    web_app_set_background_color: "6.1",
    web_app_trigger_haptic_feedback: "6.1",
    web_app_open_popup: "6.2",
    web_app_setup_closing_behavior: "6.2",
    web_app_open_scan_qr_popup: "6.4",
    web_app_read_text_from_clipboard: "6.4",
    web_app_switch_inline_query: "6.7",
    web_app_request_write_access: "6.9",
    web_app_request_phone: "6.9",
    web_app_invoke_custom_method: "6.9",
    web_app_setup_settings_button: "6.10",
    web_app_biometry_get_info: "7.2",
    web_app_setup_swipe_behavior: "7.7",
    web_app_share_to_story: "7.8",
    web_app_set_bottom_bar_color: "7.10",
    web_app_setup_secondary_button: "7.10",
    web_app_request_safe_area: "8.0",
    web_app_request_content_safe_area: "8.0",
    web_app_request_fullscreen: "8.0",
    web_app_exit_fullscreen: "8.0",
    web_app_request_file_download: "8.0",
    web_app_send_prepared_message: "8.0",
    web_app_toggle_orientation_lock: "8.0",
    web_app_add_to_home_screen: "8.0",
    web_app_check_home_screen: "8.0",
    web_app_set_emoji_status: "8.0",
  };
  const HEX = /^#[0-9a-f]{6}$/i;

  const client = {
    platform: config.platform,
    version: config.version,
    themeParams: { ...config.themeParams },
    events: [],
    // What a real client would refuse or choke on: every test fails on one.
    protocolErrors: [],
    mainButton: { is_visible: false },
    backButton: { is_visible: false },
    header: null,
    background: null,
    bottomBar: null,
    openInvoices: [],
    // Prepared messages whose share sheet is open (their ids), oldest first.
    shareSheets: [],
    links: [],
    ready: false,
    expanded: false,
    closed: false,
    customStyleSent: false,
    viewport: { ...config.viewport },

    /** Events the page sent, or those of one type; `data` as the client received it. */
    sent(type) {
      return type ? client.events.filter((e) => e.type === type) : client.events.slice();
    },
    pressMain({ force = false } = {}) {
      const b = client.mainButton;
      if (!b.is_visible) throw new Error("the MainButton is not shown");
      // A tap on a greyed-out button reaches the page only when it raced the update.
      if (!force && b.is_active === false) throw new Error("the MainButton is inactive");
      deliver("main_button_pressed");
    },
    pressBack() {
      if (!client.backButton.is_visible) throw new Error("the BackButton is not shown");
      deliver("back_button_pressed");
    },
    /** The user picks a chat in the share sheet (sent: true) or closes it (false). */
    closeShareSheet(sent) {
      const id = client.shareSheets.shift();
      if (!id) throw new Error("no share sheet is open");
      if (sent) deliver("prepared_message_sent");
      else deliver("prepared_message_failed", { error: "USER_DECLINED" });
    },
    closeInvoice(status) {
      const slug = client.openInvoices.shift();
      if (!slug) throw new Error("no invoice is open");
      deliver("invoice_closed", { slug, status });
    },
    setTheme(themeParams) {
      client.themeParams = { ...themeParams };
      paint();
      deliver("theme_changed", { theme_params: client.themeParams });
    },
  };
  window.__telegramClient = client;

  function protocolError(message, type, data) {
    client.protocolErrors.push(`${type}: ${message} ${JSON.stringify(data)}`);
  }

  function viewportEvent() {
    return { height: client.viewport.height, width: client.viewport.width, is_expanded: true, is_state_stable: true };
  }

  function setupMainButton(data) {
    if (data.is_visible) {
      const text = typeof data.text === "string" ? data.text.trim() : "";
      if (!text) protocolError("a visible button needs a text", "web_app_setup_main_button", data);
      if (text.length > 64) protocolError("text over 64 characters", "web_app_setup_main_button", data);
      for (const key of ["color", "text_color"]) {
        if (!HEX.test(String(data[key]))) protocolError(`${key} is not #rrggbb`, "web_app_setup_main_button", data);
      }
    }
    client.mainButton = { ...data };
  }

  function handle(type, data) {
    const supported = !SINCE[type] || atLeast(SINCE[type]);
    client.events.push({ type, data, supported });
    if (!supported) return;
    switch (type) {
      case "iframe_ready":
        // Telegram Web A gives the frame its scrollbar and selection styles.
        if (config.customStyle) {
          client.customStyleSent = true;
          deliver("set_custom_style", config.customStyle);
        }
        break;
      case "iframe_will_reload":
        break;
      case "web_app_ready":
        client.ready = true;
        break;
      case "web_app_expand":
        client.expanded = true;
        deliver("viewport_changed", viewportEvent());
        break;
      case "web_app_close":
        client.closed = true;
        break;
      case "web_app_request_theme":
        deliver("theme_changed", { theme_params: client.themeParams });
        break;
      case "web_app_request_viewport":
        deliver("viewport_changed", viewportEvent());
        break;
      case "web_app_request_safe_area":
        deliver("safe_area_changed", { top: 0, bottom: 0, left: 0, right: 0 });
        break;
      case "web_app_request_content_safe_area":
        deliver("content_safe_area_changed", { top: 0, bottom: 0, left: 0, right: 0 });
        break;
      case "web_app_setup_main_button":
        setupMainButton(data || {});
        break;
      case "web_app_setup_back_button":
        client.backButton = { is_visible: Boolean(data && data.is_visible) };
        break;
      case "web_app_set_header_color":
        if (data && data.color !== undefined) {
          // A colour (not a theme key) only from 6.9 on.
          if (!atLeast("6.9")) protocolError("a colour needs 6.9; older clients take color_key", type, data);
          else if (!HEX.test(data.color)) protocolError("color is not #rrggbb", type, data);
          else client.header = data.color;
        } else if (data && ["bg_color", "secondary_bg_color"].includes(data.color_key)) {
          client.header = data.color_key;
        } else {
          protocolError("neither color nor a known color_key", type, data);
        }
        break;
      case "web_app_set_background_color":
        if (!HEX.test(String(data && data.color))) protocolError("color is not #rrggbb", type, data);
        else client.background = data.color;
        break;
      case "web_app_set_bottom_bar_color":
        if (!HEX.test(String(data && data.color))) protocolError("color is not #rrggbb", type, data);
        else client.bottomBar = data.color;
        break;
      case "web_app_open_invoice":
        if (client.openInvoices.length) protocolError("an invoice is already open", type, data);
        else client.openInvoices.push(data.slug);
        break;
      case "web_app_open_link":
      case "web_app_open_tg_link":
        client.links.push({ type, ...data });
        break;
      case "web_app_send_prepared_message":
        if (!data || typeof data.id !== "string" || !data.id) protocolError("id is not a prepared message id", type, data);
        else client.shareSheets.push(data.id);
        break;
      case "web_app_request_file_download":
        deliver("file_download_requested", { status: "downloading" });
        break;
      default:
        break;
    }
    paint();
  }

  // --- Transports ---------------------------------------------------------------------
  let deliver;
  let paint = () => {};

  if (isWeb) {
    // The frame is made here, after the listener below: the SDK's first events must not
    // arrive before the client listens.
    const frame = document.createElement("iframe");
    frame.id = "tg-webapp";
    frame.title = "Mini App";
    frame.setAttribute("sandbox", "allow-scripts allow-same-origin allow-popups allow-forms allow-modals "
      + "allow-storage-access-by-user-activation");
    frame.setAttribute("allow", "clipboard-write");
    deliver = (eventType, eventData) => {
      // Later, as a real client's answer arrives.
      setTimeout(() => {
        frame.contentWindow.postMessage(JSON.stringify({ eventType, eventData }), "*");
      }, 0);
    };
    window.addEventListener("message", (event) => {
      if (event.source !== frame.contentWindow) return;
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message && message.eventType) handle(message.eventType, message.eventData);
    });

    // Telegram Web A's chrome around the frame: header with the BackButton, the
    // MainButton under the frame (the frame gets shorter while it shows).
    const back = document.getElementById("tg-back");
    const bar = document.getElementById("tg-bottom-bar");
    const main = document.getElementById("tg-main-button");
    const header = document.getElementById("tg-header");
    back.addEventListener("click", () => client.pressBack());
    main.addEventListener("click", () => {
      if (client.mainButton.is_active !== false) client.pressMain();
    });
    paint = () => {
      const t = client.themeParams;
      document.body.style.background = client.background || t.bg_color || "#ffffff";
      header.style.background = client.header && client.header[0] === "#" ? client.header
        : t[client.header || "bg_color"] || "#ffffff";
      header.style.color = t.text_color || "#000000";
      back.hidden = !client.backButton.is_visible;
      const b = client.mainButton;
      const wasShown = !bar.hidden;
      bar.hidden = !b.is_visible;
      bar.style.background = client.bottomBar || t.secondary_bg_color || t.bg_color || "#ffffff";
      if (b.is_visible) {
        main.textContent = b.text || "";
        main.style.background = b.color || t.button_color || "#2481cc";
        main.style.color = b.text_color || t.button_text_color || "#ffffff";
        main.style.opacity = b.is_active === false ? "0.6" : "1";
        main.classList.toggle("progress", Boolean(b.is_progress_visible));
      }
      if (wasShown !== !bar.hidden) {
        client.viewport.height = frame.getBoundingClientRect().height;
        deliver("viewport_changed", viewportEvent());
      }
    };
    document.getElementById("tg-frame-slot").replaceWith(frame);
    frame.src = config.appUrl;
    client.viewport.height = frame.getBoundingClientRect().height;
    paint();
  } else {
    deliver = (eventType, eventData) => {
      setTimeout(() => {
        const webView = window.Telegram && window.Telegram.WebView;
        if (webView) webView.receiveEvent(eventType, eventData);
      }, 0);
    };
    window.TelegramWebviewProxy = {
      postEvent(eventType, eventDataJson) {
        let data;
        try {
          data = JSON.parse(eventDataJson);
        } catch {
          protocolError("event data is not JSON", eventType, eventDataJson);
          return;
        }
        handle(eventType, data);
      },
    };
  }
  return client;
}
