// The NanoGen API client: `Authorization: tma <initData>` on every call, the contract's
// error body turned into ApiError, bounded retries with backoff for what is safe to retry.

import { sleep } from "./dom.js";

const REQUEST_TIMEOUT_MS = 20000;
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

function retryAfterSeconds(response) {
  const header = response.headers.get("Retry-After");
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

  let data = null;
  const text = await response.text().catch(() => "");
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (response.ok) return data;

  const isContractError = data && typeof data === "object" && typeof data.code === "string";
  throw new ApiError({
    status: response.status,
    code: isContractError ? data.code : TRANSIENT_STATUSES.has(response.status) ? "NETWORK_ERROR" : "HTTP_ERROR",
    message: isContractError ? data.message : "",
    details: isContractError ? data.details || null : null,
    body: data,
    retryAfter: retryAfterSeconds(response),
  });
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
      if (error instanceof ApiError) {
        if (["AUTH_EXPIRED", "AUTH_INVALID", "AUTH_REQUIRED", "USER_BANNED"].includes(error.code)) {
          config.onAuthProblem?.(error);
        }
        if (error.isNetwork && attempt < retries) {
          const delay = Math.min(4000, 500 * 2 ** attempt) * (0.75 + Math.random() * 0.5);
          await sleep(delay, signal);
          continue;
        }
      }
      throw error;
    }
  }
}

export const api = {
  get: (path, options = {}) => request("GET", path, { retries: 2, ...options }),
  post: (path, body, options = {}) => request("POST", path, { ...options, body }),
};
