// devtools-driver.mjs: drives headless Chromium as a user clicks through
// kiroku's dev tools pages, for test/e2e/devtools_test.go.
//
// Same launch and line protocol as driver.mjs (one JSON command per line on
// stdin, one JSON answer per line on stdout, {"id":0,"ok":true} when
// ready), with user actions on top of open/eval/close. Every action waits,
// as Playwright does, until its element is visible and enabled:
//
//   {"id":1,"op":"open","url":"http://127.0.0.1:PORT/"}                 -> PAGE
//   {"id":2,"op":"click","page":PAGE,"selector":"#publish"}
//   {"id":3,"op":"fill","page":PAGE,"selector":"#channel","value":"c1"}
//   {"id":4,"op":"select","page":PAGE,"selector":"#codec","value":"VP8"}
//   {"id":5,"op":"check","page":PAGE,"selector":"#audio","value":false}
//   {"id":6,"op":"text","page":PAGE,"selector":"#status"}               -> "..."
//   {"id":7,"op":"count","page":PAGE,"selector":"#remotes video"}       -> N
//   {"id":8,"op":"eval","page":PAGE,"expr":"document.title"}
//   {"id":9,"op":"close","page":PAGE}
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
  "--disable-background-timer-throttling",
  "--disable-renderer-backgrounding",
  "--disable-backgrounding-occluded-windows",
];

// actionTimeout bounds how long an action waits for its element.
const actionTimeout = 15000;

const profile = mkdtempSync(join(tmpdir(), "kiroku-devtools-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args,
});
const pages = new Map();
let nextPage = 1;

async function handle(cmd) {
  if (cmd.op === "open") {
    const page = await context.newPage();
    const id = nextPage++;
    page.on("console", (m) => process.stderr.write(`[devtools page ${id}] ${m.text()}\n`));
    page.on("pageerror", (e) => process.stderr.write(`[devtools page ${id}] error: ${e}\n`));
    await page.goto(cmd.url);
    pages.set(id, page);
    return id;
  }
  const page = pages.get(cmd.page);
  if (!page) throw new Error(`no page ${cmd.page}`);
  const el = () => page.locator(cmd.selector);
  switch (cmd.op) {
    case "click":
      return void (await el().click({ timeout: actionTimeout }));
    case "fill":
      return void (await el().fill(cmd.value, { timeout: actionTimeout }));
    case "select":
      return await el().selectOption(cmd.value, { timeout: actionTimeout });
    case "check":
      return void (await el().setChecked(cmd.value, { timeout: actionTimeout }));
    case "text":
      return await el().textContent({ timeout: actionTimeout });
    case "count":
      return await el().count();
    case "eval":
      return await page.evaluate(cmd.expr);
    case "close":
      await page.close();
      pages.delete(cmd.page);
      return null;
    default:
      throw new Error(`unknown op ${cmd.op}`);
  }
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
