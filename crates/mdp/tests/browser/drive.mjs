// Drives `mdp orchestrator`'s page in headless Chromium for the Rust browser tests:
//
//   node drive.mjs <page-url> <screenshot-dir>
//
// with NODE_PATH naming the node_modules that holds playwright-core (scripts/browser-env.sh
// prints its parent) and MDP_CHROMIUM the browser (default /usr/bin/chromium). It prints one
// JSON line per stage, as it happens: `ready` once at least 4 cards are shown (with every
// card's id, role, level and presence), `hard` once a store card is at level hard (its id and
// text), then, once stdin sends a line or ends, `done` with every console error or warning,
// page error and failed request seen while the page was open; it saves page-ready.png,
// page-hard.png and page-end.png in <screenshot-dir>. On a timeout it prints
// `timeout` with the stage, the errors and the page's HTML, and exits 1.
import { createRequire } from "node:module";
import { mkdirSync, writeSync } from "node:fs";
import path from "node:path";

const require = createRequire(import.meta.url);
// ES modules ignore NODE_PATH, so resolve playwright-core through it by hand.
function loadPlaywright() {
  const dirs = (process.env.NODE_PATH || "").split(path.delimiter).filter(Boolean);
  for (const dir of dirs) {
    try {
      return require(require.resolve("playwright-core", { paths: [dir] }));
    } catch (e) {
      // not in this one
    }
  }
  return require("playwright-core");
}

const READY_MS = 20_000;
const FINISH_MS = 600_000;

// Resolves when stdin sends a line or ends, or after `ms`.
function untilStdinEnds(ms) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    const end = () => {
      clearTimeout(timer);
      resolve();
    };
    process.stdin.once("data", end);
    process.stdin.once("end", end);
    process.stdin.resume();
  });
}
const HARD_MS = 60_000;
const HTML_MAX = 20_000;

function emit(obj) {
  // Synchronous write: every line reaches the reader at once, in order.
  writeSync(1, JSON.stringify(obj) + "\n");
}

const [url, shots] = process.argv.slice(2);
if (!url || !shots) {
  process.stderr.write("usage: node drive.mjs <page-url> <screenshot-dir>\n");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });

const { chromium } = loadPlaywright();
const errors = [];
const browser = await chromium.launch({
  executablePath: process.env.MDP_CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox"],
});

let code = 0;
let closing = false;
let current = "ready";
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on("console", (msg) => {
    const type = msg.type();
    if (type === "error" || type === "warning") {
      const loc = msg.location();
      errors.push({ kind: "console", type, text: msg.text(), url: loc && loc.url ? loc.url : "" });
    }
  });
  page.on("pageerror", (err) => {
    errors.push({ kind: "pageerror", text: String(err && err.stack ? err.stack : err) });
  });
  page.on("requestfailed", (req) => {
    const failure = req.failure();
    const text = failure ? failure.errorText : "failed";
    // The event stream is cut when the page closes at the end; that is no failure.
    if (closing && req.url().endsWith("/api/events")) return;
    errors.push({ kind: "requestfailed", url: req.url(), method: req.method(), text });
  });
  page.on("response", (res) => {
    if (res.status() >= 400) {
      errors.push({ kind: "response", url: res.url(), method: res.request().method(), status: res.status() });
    }
  });

  const stage = async (name, wait) => {
    try {
      await wait();
      return true;
    } catch (e) {
      let html = "";
      try {
        html = await page.evaluate(() => document.body.outerHTML);
      } catch (err) {
        html = "<unavailable: " + String(err) + ">";
      }
      emit({ event: "timeout", stage: name, errors, html: html.slice(0, HTML_MAX) });
      return false;
    }
  };

  await page.goto(url, { waitUntil: "domcontentloaded", timeout: READY_MS });

  const ready = await stage("ready", () =>
    page.waitForFunction(() => document.querySelectorAll("article.card").length >= 4, null, {
      timeout: READY_MS,
      polling: 100,
    })
  );
  if (!ready) {
    code = 1;
  } else {
    const members = await page.$$eval("article.card", (nodes) =>
      nodes.map((n) => ({
        id: n.getAttribute("data-member-id"),
        role: n.getAttribute("data-role"),
        level: n.getAttribute("data-level"),
        presence: n.getAttribute("data-presence"),
      }))
    );
    emit({ event: "ready", members });
    await page.screenshot({ path: path.join(shots, "page-ready.png"), fullPage: true });

    current = "hard";
    const selector = "article.card[data-role=store][data-level=hard]";
    const hard = await stage("hard", () =>
      page.waitForSelector(selector, { state: "attached", timeout: HARD_MS })
    );
    if (!hard) {
      code = 1;
    } else {
      const card = await page.$(selector);
      const id = await card.getAttribute("data-member-id");
      const text = await card.innerText();
      emit({ event: "hard", id, text });
      await page.screenshot({ path: path.join(shots, "page-hard.png"), fullPage: true });
      // the page stays open (and watched) until the test says it is done, on stdin
      current = "finish";
      await untilStdinEnds(FINISH_MS);
      await page.screenshot({ path: path.join(shots, "page-end.png"), fullPage: true });
      emit({ event: "done", errors });
    }
  }
  closing = true;
  await context.close();
} catch (e) {
  errors.push({ kind: "driver", text: String(e && e.stack ? e.stack : e) });
  emit({ event: "timeout", stage: current, errors, html: "" });
  code = 1;
} finally {
  closing = true;
  await browser.close().catch(() => undefined);
}
process.exit(code);
