// A create screen's photos: from the camera or the gallery, up to the model's maximum,
// each uploaded at once (with progress), moved and removed with buttons (nothing is
// drag-only). A refused file is named with the server's message, or ours for one over
// the size limit, which is never sent.

import { clear, h, icon, uid } from "../dom.js";
import { plural, t } from "../i18n.js";
import { errorText } from "./common.js";

/** `ready`: photos already uploaded, [{upload, url}] (a result to animate); `onChange`
 * runs when the photos or their state change. */
export function photoPicker(ctx, { min, max, ready = [], onChange }) {
  // UPLOAD_MAX_BYTES, which the page states (the API checks it again).
  const maxBytes = Number(document.body.dataset.uploadMaxBytes) || 10485760;
  const items = ready.map(({ upload, url }) => ({ key: uid("photo"), url, upload }));
  let errors = [];
  const list = h("ol", { class: "photo-list" });
  const errorList = h("ul", { class: "photo-errors", role: "alert" });
  const count = h("span", { class: "hint" });
  const hint = h("p", { class: "hint", "aria-live": "polite" });
  const [take, camera] = source("photo-take", "camera", { capture: true });
  const [pick, gallery] = source("photo-pick", "image", { multiple: max > 1 });
  const el = h("section", { class: "card photos" },
    h("div", { class: "label-row" }, h("h2", { class: "photos-title" }, t("photos_title")), count),
    list, errorList, h("div", { class: "actions" }, take, pick), hint, camera, gallery);

  /** A button and the file input it opens. */
  function source(name, iconName, attrs) {
    const input = h("input", { type: "file", accept: "image/jpeg,image/png,image/webp", hidden: true, ...attrs });
    input.addEventListener("change", () => {
      add([...input.files]);
      input.value = ""; // the same file may be chosen again
    });
    return [h("button", { type: "button", class: ["btn", name], onclick: () => input.click() },
      icon(iconName, { size: 18 }), t(name.replace("-", "_"))), input];
  }

  function add(files) {
    errors = [];
    for (const file of files) {
      if (items.length >= max) {
        errors.push(t("photos_too_many", { max: plural("photos", max) }));
        break;
      }
      if (file.size > maxBytes) {
        // In the API's words for its own refusal.
        errors.push(`${file.name}: ${t("file_too_large", { size: String(Number((maxBytes / 1048576).toPrecision(6))) })}`);
        continue;
      }
      const item = { key: uid("photo"), url: URL.createObjectURL(file), progress: 0, stop: new AbortController() };
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
          const bar = list.querySelector(`[data-key="${item.key}"] progress`);
          if (bar) bar.value = item.progress = Math.round(share * 100);
        },
      });
    } catch (error) {
      if (!items.includes(item)) return; // removed meanwhile
      drop(item);
      errors.push(`${file.name}: ${errorText(error)}`);
    }
    changed();
  }

  function drop(item) {
    items.splice(items.indexOf(item), 1);
    item.stop?.abort();
    if (item.url.startsWith("blob:")) URL.revokeObjectURL(item.url);
  }

  /** Rebuild, then keep the keyboard where it was: on the photo's next button of this kind. */
  function changed(focus) {
    render();
    onChange?.();
    if (focus) (list.querySelector(focus) || pick).focus();
  }

  function render() {
    clear(list);
    items.forEach((item, i) => {
      const n = i + 1;
      const button = (name, label, onclick, disabled = false) => h("button", {
        type: "button", class: ["icon-button", `photo-${name}`], "aria-label": t(label, { n }), disabled, onclick,
      }, icon(name === "remove" ? "cross" : name, { size: 20 }));
      const move = (by) => () => {
        items.splice(i, 1);
        items.splice(i + by, 0, item);
        const edge = i + by === 0 || i + by === items.length - 1;
        changed(`[data-key="${item.key}"] .photo-${(by < 0) === !edge ? "up" : "down"}`);
      };
      list.append(h("li", { class: "photo", dataset: { key: item.key, state: item.upload ? "ready" : "uploading" } },
        h("img", { class: "thumb", src: item.url, alt: t("photo_label", { n }), width: "56", height: "56" }),
        h("span", { class: "photo-main" }, t("photo_label", { n }), item.upload
          ? h("span", { class: "hint" }, t("photo_ready"))
          : h("progress", { max: "100", value: String(item.progress), "aria-label": t("photo_label", { n }) })),
        items.length > 1 ? [button("up", "photo_up", move(-1), !i), button("down", "photo_down", move(1), n === items.length)] : null,
        button("remove", "photo_remove", () => {
          drop(item);
          errors = [];
          changed(`.photo:nth-child(${Math.min(n, items.length)}) .photo-remove`);
        })));
    });
    clear(errorList).append(...errors.map((text) => h("li", {}, text)));
    take.disabled = pick.disabled = items.length >= max;
    count.textContent = t("photos_count", { count: items.length, max });
    hint.textContent = picker.problem();
  }

  const picker = {
    el,
    /** The uploads' ids, in order. */
    ids: () => items.filter((item) => item.upload).map((item) => item.upload.id),
    /** Why a start cannot be made yet ("" when it can). */
    problem: () => (items.some((item) => !item.upload) ? t("photos_busy")
      : items.length < min ? t("photos_needed", { count: plural("photos", min) }) : ""),
    destroy: () => [...items].forEach(drop),
  };
  render();
  return picker;
}
