// common.js: what every dev tools page shares: the server's settings, the
// signaling URL, HTTP API calls and the status line.

/** Returns the element with the given id. */
export const $ = (id) => document.getElementById(id);

let cached = null;

/** Fetches /devtools.json once: signaling path and HTTP API port. */
export async function settings() {
  if (!cached) {
    const res = await fetch("/devtools.json");
    if (!res.ok) throw new Error(`/devtools.json: HTTP ${res.status}`);
    cached = await res.json();
  }
  return cached;
}

/** The WebSocket signaling URL on this page's host and port. */
export function signalingUrl(s) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${s.signaling_path}`;
}

/** The HTTP API's URL: this page's host at api_listen_port. */
export function apiUrl(s) {
  return `${location.protocol}//${location.hostname}:${s.api_port}/`;
}

/**
 * Calls one HTTP API method (x-sora-target) and returns the decoded JSON
 * reply; a non-2xx answer throws with Sora's error_reason. The API is on
 * another port, so the browser sends a CORS preflight first.
 */
export async function callApi(target, body) {
  const s = await settings();
  let res;
  try {
    res = await fetch(apiUrl(s), {
      method: "POST",
      headers: { "x-sora-target": target, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch (e) {
    throw new Error(`cannot reach the HTTP API at ${apiUrl(s)} (is this page's origin allowed by api_cors_allow_origins?): ${e.message ?? e}`);
  }
  const reply = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${res.status} ${reply.error_type ?? ""}: ${reply.error_reason ?? res.statusText}`);
  return reply;
}

/** Sets the page's status line; kind is "ok", "error" or "" (neutral). */
export function setStatus(id, text, kind = "") {
  const el = $(id);
  el.textContent = text;
  el.className = `status ${kind}`;
}

/** Fills the channel field from ?channel= and keeps the nav links on it. */
export function bindChannel() {
  const input = $("channel");
  const q = new URLSearchParams(location.search).get("channel");
  if (q) input.value = q;
  const sync = () => {
    for (const a of document.querySelectorAll("nav a")) {
      const url = new URL(a.href);
      url.searchParams.set("channel", input.value);
      a.href = url.pathname + url.search;
    }
  };
  input.addEventListener("input", sync);
  sync();
  return input;
}
