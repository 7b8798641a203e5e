// The modules the node tests run must stay free of the browser and the clock: no DOM, no
// storage, no timers, no socket, no network, no Date.now(), and imports of pure modules only.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export const PURE_MODULES = [
  "static/contactcenter/format.js",
  "static/channels_app/console/state.js",
  "static/channels_app/console/sms.js",
  "static/channels_app/console/placeholders.js",
  "static/channels_app/console/drafts.js",
  "static/channels_app/console/outgoing.js",
  "static/channels_app/console/labels.js",
  "static/supervisor/dashboard/state.js",
];

const FORBIDDEN = [
  /\bdocument\b/,
  /\bwindow\b/,
  /\blocalStorage\b/,
  /\bsessionStorage\b/,
  /\bnavigator\b/,
  /\bsetTimeout\b/,
  /\bsetInterval\b/,
  /\bWebSocket\b/,
  /\bfetch\s*\(/,
  /\bDate\.now\s*\(/,
  /new Date\(\s*\)/,
  /\binnerHTML\b/,
];

/** The code without its comments, so that a comment may say "no document" freely. */
function code(path) {
  return readFileSync(join(ROOT, path), "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

for (const path of PURE_MODULES) {
  test(`${path} touches neither the browser nor the clock`, async () => {
    const source = code(path);
    for (const pattern of FORBIDDEN) assert.doesNotMatch(source, pattern, `${path}: ${pattern}`);
    for (const [, specifier] of source.matchAll(/\bfrom\s+"([^"]+)"/g)) {
      const target = relative(ROOT, resolve(ROOT, dirname(path), specifier));
      assert.ok(PURE_MODULES.includes(target), `${path} imports ${target}, which is not pure`);
    }
    await import(join(ROOT, path));
  });
}
