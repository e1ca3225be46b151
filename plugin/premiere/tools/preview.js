// Build a stand-alone HTML page of the panel running on the fake Premiere host, and render it with headless
// Chromium (no npm packages): `node tools/preview.js [OUT_DIR]` writes OUT_DIR/premiere-panel-preview.html and
// OUT_DIR/premiere-panel.png (OUT_DIR defaults to the repository's build/).
//
// The page inlines the panel's CSS and every CommonJS module behind a tiny require() (UXP's own loader is not
// available in a browser), maps "premierepro" and "uxp" to the fakes in test/fake/, selects a clip with two of
// the editor's own markers, and imports the bridge's OTIO fixture through the panel's own button handler.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { spawnSync } = require("node:child_process");

const PLUGIN = path.resolve(__dirname, "..");
const DEFAULT_OUT = path.resolve(PLUGIN, "..", "..", "build");
const MODULES = {
  premierepro: "test/fake/premierepro.js",
  uxp: "test/fake/uxp.js",
  "rational.js": "src/rational.js",
  "marker-colours.js": "src/marker-colours.js",
  "moments.js": "src/moments.js",
  "markers.js": "src/markers.js",
  "host.js": "src/host.js",
  "daemon.js": "src/daemon.js",
  "workflow.js": "src/workflow.js",
  "subtitles.js": "src/subtitles.js",
  "panel.js": "src/panel.js",
};
const WIDTH = 380;
const HEIGHT = 860;

function scriptSafe(text) {
  return text.replace(/<\/script/gi, "<\\/script");
}

function buildPreviewHtml() {
  const index = fs.readFileSync(path.join(PLUGIN, "index.html"), "utf8");
  const css = fs.readFileSync(path.join(PLUGIN, "src", "styles.css"), "utf8");
  const fixture = fs.readFileSync(path.join(PLUGIN, "test", "fixtures", "A001_C003.otio"), "utf8");
  const loader = `
    const __modules = {};
    function __define(name, body) { __modules[name] = { body, module: null }; }
    function require(name) {
      const key = __modules[name] ? name : name.replace(/^.*\\//, "");
      const entry = __modules[key];
      if (!entry) throw new Error("preview: no module " + name);
      if (!entry.module) {
        entry.module = { exports: {} };
        entry.body(entry.module, entry.module.exports, require);
      }
      return entry.module.exports;
    }`;
  const defines = Object.entries(MODULES)
    .map(([name, file]) => `__define(${JSON.stringify(name)}, function (module, exports, require) {\n${fs.readFileSync(path.join(PLUGIN, file), "utf8")}\n});`)
    .join("\n");
  const scenario = `
    const ppro = require("premierepro");
    const uxp = require("uxp");
    const tick = (frames) => (BigInt(frames) * 1001n * 254016000000n) / 30000n;
    ppro._reset({ projectName: "Promo cut.prproj" });
    const clip = ppro._newClip("A001_C003.mov", "/Volumes/Footage/Day 1/A001_C003.mov");
    ppro._selectInTimeline(clip, 0n, tick(150));
    ppro._addMarker(clip, { name: "Director likes this", comments: "use in the trailer", startTicks: tick(40), colorIndex: 3 });
    ppro._addMarker(clip, { name: "boom in shot", startTicks: tick(90), durationTicks: tick(12), colorIndex: 1 });
    uxp._queueFile("A001_C003.otio", ${JSON.stringify(fixture).replace(/</g, "\\u003c")});
    const panel = require("panel.js").startPanel({ document, ppro, uxp, storage: null });
    panel.importFile().then(
      () => document.body.setAttribute("data-preview", "ready"),
      (error) => document.body.setAttribute("data-preview", "failed: " + error.message),
    );`;
  return index
    .replace(/<link rel="stylesheet" href="src\/styles.css" \/>/, `<style>\n${css}</style>`)
    .replace(/<script src="main.js"><\/script>/, `<script>\n${scriptSafe(loader)}\n${scriptSafe(defines)}\n${scriptSafe(scenario)}\n</script>`);
}

function findChromium() {
  for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
    const found = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
    if (found.status === 0 && found.stdout.trim()) return found.stdout.trim();
  }
  return null;
}

function chromiumArgs(extra) {
  return ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--mute-audio",
    "--virtual-time-budget=10000", `--window-size=${WIDTH},${HEIGHT}`, ...extra];
}

/** Write the page and, with Chromium, its screenshot and DOM. Returns {html, png, dom} (png/dom null without it). */
function render(outDir = DEFAULT_OUT, chromium = findChromium()) {
  fs.mkdirSync(outDir, { recursive: true });
  const html = path.join(outDir, "premiere-panel-preview.html");
  fs.writeFileSync(html, buildPreviewHtml());
  if (!chromium) return { html, png: null, dom: null, chromium: null };
  const url = "file://" + html;
  const userDir = fs.mkdtempSync(path.join(require("node:os").tmpdir(), "reelmark-chromium-"));
  try {
    const png = path.join(outDir, "premiere-panel.png");
    fs.rmSync(png, { force: true });
    const shot = spawnSync(chromium, chromiumArgs([`--user-data-dir=${userDir}`, `--screenshot=${png}`, url]), { encoding: "utf8", timeout: 120000 });
    if (shot.status !== 0 || !fs.existsSync(png)) throw new Error(`chromium screenshot failed (${shot.status}): ${shot.stderr}`);
    const dump = spawnSync(chromium, chromiumArgs([`--user-data-dir=${userDir}`, "--dump-dom", url]), { encoding: "utf8", timeout: 120000, maxBuffer: 64 << 20 });
    if (dump.status !== 0) throw new Error(`chromium --dump-dom failed (${dump.status}): ${dump.stderr}`);
    return { html, png, dom: dump.stdout, chromium };
  } finally {
    fs.rmSync(userDir, { recursive: true, force: true });
  }
}

module.exports = { buildPreviewHtml, render, findChromium, WIDTH, HEIGHT, DEFAULT_OUT };

if (require.main === module) {
  const out = render(process.argv[2] ? path.resolve(process.argv[2]) : DEFAULT_OUT);
  console.log(out.png ? `wrote ${out.png}` : `wrote ${out.html}; no Chromium found, so no screenshot`);
}
