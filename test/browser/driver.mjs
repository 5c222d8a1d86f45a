// driver.mjs: a line-oriented remote control for headless Chromium, used
// by the Go end-to-end tests (test/e2e).
//
// It launches Debian's /usr/bin/chromium through playwright-core with a
// fresh profile and fake camera and microphone, then reads one JSON
// command per line on stdin and answers one JSON line on stdout:
//
//   {"id":1,"op":"open","url":"http://127.0.0.1:PORT/page.html"} -> {"id":1,"ok":true,"result":PAGE}
//   {"id":2,"op":"eval","page":PAGE,"expr":"kiroku.state()"}      -> {"id":2,"ok":true,"result":...}
//   {"id":3,"op":"close","page":PAGE}                              -> {"id":3,"ok":true}
//
// An error answers {"id":N,"ok":false,"error":"..."}. Console output of
// the pages goes to stderr. The browser closes when stdin ends.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const args = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--use-fake-device-for-media-stream",
  "--use-fake-ui-for-media-stream",
  "--autoplay-policy=no-user-gesture-required",
  // Every page is a background tab but one: keep their timers and
  // rendering at full rate, as a user's visible windows are.
  "--disable-background-timer-throttling",
  "--disable-renderer-backgrounding",
  "--disable-backgrounding-occluded-windows",
  // Extra flags from the test, e.g. host resolver rules for a test's names.
  ...JSON.parse(process.env.KIROKU_CHROMIUM_ARGS || "[]"),
];

const profile = mkdtempSync(join(tmpdir(), "kiroku-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args,
});
const pages = new Map();
let nextPage = 1;

async function handle(cmd) {
  switch (cmd.op) {
    case "open": {
      const page = await context.newPage();
      const id = nextPage++;
      page.on("console", (m) => process.stderr.write(`[page ${id}] ${m.text()}\n`));
      page.on("pageerror", (e) => process.stderr.write(`[page ${id}] error: ${e}\n`));
      await page.goto(cmd.url);
      pages.set(id, page);
      return id;
    }
    case "eval":
      return await pageOf(cmd).evaluate(cmd.expr);
    case "close":
      await pageOf(cmd).close();
      pages.delete(cmd.page);
      return null;
    default:
      throw new Error(`unknown op ${cmd.op}`);
  }
}

function pageOf(cmd) {
  const page = pages.get(cmd.page);
  if (!page) throw new Error(`no page ${cmd.page}`);
  return page;
}

function reply(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

const lines = createInterface({ input: process.stdin });
const pending = new Set();
lines.on("line", (line) => {
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch (e) {
    reply({ id: 0, ok: false, error: `bad command: ${e}` });
    return;
  }
  const p = handle(cmd)
    .then((result) => reply({ id: cmd.id, ok: true, result: result ?? null }))
    .catch((e) => reply({ id: cmd.id, ok: false, error: String(e?.message ?? e) }));
  pending.add(p);
  p.finally(() => pending.delete(p));
});
lines.on("close", async () => {
  await Promise.allSettled([...pending]);
  await context.close();
  rmSync(profile, { recursive: true, force: true });
  process.exit(0);
});
reply({ id: 0, ok: true, result: "ready" });
