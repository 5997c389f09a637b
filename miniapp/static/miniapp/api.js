// The NanoGen API client: `Authorization: tma <initData>` on every call, the contract's
// error body turned into ApiError, bounded retries with backoff for what is safe to retry.

import { sleep } from "./dom.js";

const REQUEST_TIMEOUT_MS = 20000;
// A 10 MB photo over a slow mobile uplink.
const UPLOAD_TIMEOUT_MS = 180000;
// Statuses a proxy or a restarting server gives; the request may not have been handled.
const TRANSIENT_STATUSES = new Set([502, 503, 504]);

export class ApiError extends Error {
  constructor({ status = 0, code = "NETWORK_ERROR", message = "", details = null, body = null, retryAfter = null }) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.details = details;
    this.body = body;
    this.retryAfter = retryAfter;
  }

  get isNetwork() {
    return this.code === "NETWORK_ERROR";
  }
}

let config = { root: "/api/", initData: "", onAuthProblem: null };

export function configureApi(options) {
  config = { ...config, ...options };
}

/** An API path ("generations") or a full URL from the API (a cursor's `next`) as a same-origin URL. */
export function apiUrl(pathOrUrl, query) {
  let url;
  if (/^https?:\/\//.test(pathOrUrl)) {
    // DRF builds `next` from the request's host and scheme; behind a proxy that may not be
    // the origin the page sees, and connect-src allows only 'self'. The path is what counts.
    const absolute = new URL(pathOrUrl);
    url = new URL(absolute.pathname + absolute.search, window.location.origin);
  } else {
    url = new URL(config.root + pathOrUrl.replace(/^\//, ""), window.location.origin);
  }
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  return url.pathname + url.search;
}

function retryAfterSeconds(header) {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, (date - Date.now()) / 1000);
}

async function once(method, url, body, signal) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException("timeout", "TimeoutError")), REQUEST_TIMEOUT_MS);
  const onAbort = () => controller.abort(signal.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  let response;
  try {
    response = await fetch(url, {
      method,
      headers: {
        Accept: "application/json",
        Authorization: `tma ${config.initData}`,
        ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      credentials: "omit",
      cache: "no-store",
      signal: controller.signal,
    });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new ApiError({ code: "NETWORK_ERROR", message: String(error?.message || error) });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }

  const text = await response.text().catch(() => "");
  return settle(response.status, text, (name) => response.headers.get(name));
}

/** The answer's JSON, or the ApiError its status and body make. */
function settle(status, text, header) {
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (status >= 200 && status < 300) return data;

  const isContractError = data && typeof data === "object" && typeof data.code === "string";
  throw new ApiError({
    status,
    code: isContractError ? data.code : TRANSIENT_STATUSES.has(status) ? "NETWORK_ERROR" : "HTTP_ERROR",
    message: isContractError ? data.message : "",
    details: isContractError ? data.details || null : null,
    body: data,
    retryAfter: retryAfterSeconds(header("Retry-After")),
  });
}

function reportAuth(error) {
  if (error instanceof ApiError && ["AUTH_EXPIRED", "AUTH_INVALID", "AUTH_REQUIRED", "USER_BANNED"].includes(error.code)) {
    config.onAuthProblem?.(error);
  }
}

/**
 * One API call. `retries` is how many more times a request that never got an answer
 * (network error, timeout, 502/503/504) is sent again, with backoff. Only pass retries
 * for requests that are safe to repeat: reads, and creates that carry an idempotency key.
 */
export async function request(method, path, { body, query, retries = 0, signal } = {}) {
  const url = apiUrl(path, query);
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await once(method, url, body, signal);
    } catch (error) {
      reportAuth(error);
      if (error instanceof ApiError && error.isNetwork && attempt < retries) {
        const delay = Math.min(4000, 500 * 2 ** attempt) * (0.75 + Math.random() * 0.5);
        await sleep(delay, signal);
        continue;
      }
      throw error;
    }
  }
}

/**
 * POST one file as multipart/form-data (field `file`), reporting the share sent to
 * `onProgress` (0..1): XMLHttpRequest, since fetch cannot tell upload progress.
 */
function upload(path, file, { onProgress, signal } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", apiUrl(path));
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("Authorization", `tma ${config.initData}`);
    xhr.timeout = UPLOAD_TIMEOUT_MS;
    xhr.upload.onprogress = (event) => event.lengthComputable && onProgress?.(event.loaded / event.total);
    xhr.onload = () => {
      try {
        resolve(settle(xhr.status, xhr.responseText, (name) => xhr.getResponseHeader(name)));
      } catch (error) {
        reportAuth(error);
        reject(error);
      }
    };
    xhr.onerror = xhr.ontimeout = () => reject(new ApiError({ code: "NETWORK_ERROR" }));
    xhr.onabort = () => reject(signal?.reason ?? new DOMException("aborted", "AbortError"));
    signal?.addEventListener("abort", () => xhr.abort(), { once: true });
    const form = new FormData();
    form.append("file", file, file.name || "photo");
    xhr.send(form);
  });
}

export const api = {
  get: (path, options = {}) => request("GET", path, { retries: 2, ...options }),
  post: (path, body, options = {}) => request("POST", path, { ...options, body }),
  upload,
};
