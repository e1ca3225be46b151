"use strict";

// Headless-Chromium render of the panel on the fake host: the screenshot lands in build/premiere-panel.png.
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const preview = require("../tools/preview.js");

const OUT = process.env.REELMARK_BUILD_DIR ? path.resolve(process.env.REELMARK_BUILD_DIR) : preview.DEFAULT_OUT;
const chromium = preview.findChromium();

test("the preview page inlines every module and the fixture", () => {
  const html = preview.buildPreviewHtml();
  assert.match(html, /__define\("premierepro"/);
  assert.match(html, /__define\("panel\.js"/);
  assert.doesNotMatch(html, /<script src=/);
  assert.doesNotMatch(html, /<link rel="stylesheet"/);
});

test("the panel renders a marker list in headless Chromium", { skip: chromium ? false : "Chromium is not installed (Debian package `chromium`); no screenshot taken" }, () => {
  const out = preview.render(OUT, chromium);
  const png = fs.readFileSync(out.png);
  assert.equal(png.subarray(1, 4).toString("latin1"), "PNG");
  assert.equal(png.readUInt32BE(16), preview.WIDTH);
  assert.equal(png.readUInt32BE(20), preview.HEIGHT);
  assert.ok(png.length > 20000, `a blank page compresses far smaller than ${png.length} bytes`);
  assert.match(out.dom, /data-preview="ready"/);
  const rows = out.dom.match(/class="marker"/g) || [];
  assert.equal(rows.length, 9);
  assert.match(out.dom, /9 markers on A001_C003\.mov/);
  assert.match(out.dom, />activity 1</);
  assert.match(out.dom, /00:00:00:06/);
  assert.match(out.dom, /your 2 own markers untouched/);
});
