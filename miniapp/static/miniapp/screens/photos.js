// The photos of a create screen: taken with the camera or picked from the gallery, up to
// the model's maximum, each uploaded at once (with progress) and shown as a thumbnail that
// buttons move and remove (nothing is drag-only). A refused file is named with the
// server's message (or ours, for a file over the size limit, which is never sent).

import { clear, h, icon, uid } from "../dom.js";
import { plural, t } from "../i18n.js";
import { errorText } from "./common.js";

const ACCEPT = "image/jpeg,image/png,image/webp";
// UPLOAD_MAX_BYTES, which the page states; this only if it does not.
const MAX_BYTES_DEFAULT = 10 * 1024 * 1024;

/** `ready`: photos already uploaded, [{upload, url}] (a result to animate). `onChange`
 * runs when the set of photos or their state changes. */
export function photoPicker(ctx, { min, max, ready = [], onChange }) {
  const maxBytes = Number(document.body.dataset.uploadMaxBytes) || MAX_BYTES_DEFAULT;
  const items = ready.map(({ upload, url }) => ({ key: uid("photo"), url, upload }));
  let errors = [];

  const titleId = uid("photos");
  const list = h("ol", { class: "photo-list" });
  const errorList = h("ul", { class: "photo-errors", role: "alert" });
  const count = h("span", { class: "hint" });
  const hint = h("p", { class: "hint photos-hint", "aria-live": "polite" });
  const camera = fileInput({ capture: true });
  const gallery = fileInput({ multiple: max > 1 });
  const take = h("button", { type: "button", class: "btn photo-take", onclick: () => camera.click() },
    icon("camera", { size: 18 }), t("photo_take"));
  const pick = h("button", { type: "button", class: "btn photo-pick", onclick: () => gallery.click() },
    icon("image", { size: 18 }), t("photo_pick"));
  const el = h("section", { class: "card photos", "aria-labelledby": titleId },
    h("div", { class: "label-row" }, h("h2", { id: titleId, class: "photos-title" }, t("photos_title")), count),
    list, errorList, h("div", { class: "actions" }, take, pick), hint, camera, gallery);

  function fileInput(attrs) {
    const input = h("input", { type: "file", accept: ACCEPT, hidden: true, ...attrs });
    input.addEventListener("change", () => {
      add([...input.files]);
      input.value = ""; // the same file may be chosen again after a removal
    });
    return input;
  }

  function add(files) {
    errors = [];
    const room = max - items.length;
    if (files.length > room) errors.push(t("photos_too_many", { max: plural("photos", max) }));
    for (const file of files.slice(0, Math.max(0, room))) {
      if (file.size > maxBytes) {
        // Written as the API writes it.
        errors.push(`${file.name}: ${t("file_too_large", { size: String(Number((maxBytes / 1048576).toPrecision(6))) })}`);
        continue;
      }
      const item = { key: uid("photo"), url: URL.createObjectURL(file), upload: null, progress: 0, stop: new AbortController() };
      items.push(item);
      send(item, file);
    }
    changed();
  }

  async function send(item, file) {
    try {
      item.upload = await ctx.api.upload("uploads", file, {
        signal: item.stop.signal,
        onProgress(share) {
          item.progress = share;
          const bar = list.querySelector(`[data-key="${item.key}"] progress`);
          if (bar) bar.value = Math.round(share * 100);
        },
      });
    } catch (error) {
      if (!items.includes(item)) return; // removed meanwhile
      items.splice(items.indexOf(item), 1);
      URL.revokeObjectURL(item.url);
      errors.push(`${file.name}: ${errorText(error)}`);
    }
    changed();
  }

  function move(item, by) {
    const from = items.indexOf(item);
    items.splice(from, 1);
    items.splice(from + by, 0, item);
    changed();
    // Focus stays on the photo that moved, on the button that can still move it.
    const row = list.querySelector(`[data-key="${item.key}"]`);
    const buttons = [...row.querySelectorAll(".photo-move")].filter((b) => !b.disabled);
    (buttons.find((b) => b.dataset.by === String(by)) || buttons[0])?.focus();
  }

  function remove(item) {
    const at = items.indexOf(item);
    items.splice(at, 1);
    item.stop?.abort();
    if (item.url.startsWith("blob:")) URL.revokeObjectURL(item.url);
    errors = [];
    changed();
    const next = list.querySelectorAll(".photo-remove")[Math.min(at, items.length - 1)];
    (next || (pick.disabled ? null : pick) || el.querySelector(".photos-title"))?.focus();
  }

  function button(name, label, onclick, extra = {}) {
    return h("button", { type: "button", class: "icon-button", "aria-label": label, onclick, ...extra }, icon(name, { size: 20 }));
  }

  function render() {
    clear(list);
    items.forEach((item, i) => {
      const n = i + 1;
      const moves = items.length > 1
        ? [-1, 1].map((by) => button(by < 0 ? "up" : "down", t(by < 0 ? "photo_up" : "photo_down", { n }),
          () => move(item, by), { class: "icon-button photo-move", disabled: i + by < 0 || i + by >= items.length, dataset: { by: String(by) } }))
        : [];
      list.append(h("li", { class: "photo", dataset: { key: item.key, state: item.upload ? "ready" : "uploading" } },
        h("img", { class: "thumb", src: item.url, alt: t("photo_label", { n }), width: "56", height: "56" }),
        h("span", { class: "photo-main" },
          h("span", { class: "photo-name" }, t("photo_label", { n })),
          item.upload
            ? h("span", { class: "hint" }, t("photo_ready"))
            : h("progress", { max: "100", value: String(Math.round(item.progress * 100)), "aria-label": t("photo_uploading", { n }) })),
        moves,
        button("cross", t("photo_remove", { n }), () => remove(item), { class: "icon-button photo-remove" })));
    });
    clear(errorList).append(...errors.map((text) => h("li", {}, text)));
    take.disabled = pick.disabled = items.length >= max;
    count.textContent = t("photos_count", { count: items.length, max });
    hint.textContent = picker.problem() || (items.length >= max ? t("photos_full") : "");
  }

  function changed() {
    render();
    onChange?.();
  }

  const picker = {
    el,
    /** The uploads' ids, in order. */
    ids: () => items.filter((item) => item.upload).map((item) => item.upload.id),
    /** Why a start cannot be made yet ("" when it can). */
    problem() {
      if (items.some((item) => !item.upload)) return t("photos_busy");
      return items.length < min ? t("photos_needed", { count: plural("photos", min) }) : "";
    },
    destroy() {
      for (const item of items.splice(0)) {
        item.stop?.abort();
        if (item.url.startsWith("blob:")) URL.revokeObjectURL(item.url);
      }
    },
  };
  render();
  return picker;
}
