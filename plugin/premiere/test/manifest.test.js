"use strict";

// The manifest against the keys the UXP manifest v5 reference requires
// (https://developer.adobe.com/premiere-pro/uxp/plugins/concepts/manifest/): manifestVersion, id, name,
// version, main, host {app, minVersion}, entrypoints; plus what this panel needs to work at all.
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");

const PLUGIN = path.resolve(__dirname, "..");
const manifest = JSON.parse(fs.readFileSync(path.join(PLUGIN, "manifest.json"), "utf8"));

test("manifest v5 has every documented required key", () => {
  for (const key of ["manifestVersion", "id", "name", "version", "main", "host", "entrypoints"]) assert.ok(key in manifest, `missing ${key}`);
  assert.equal(manifest.manifestVersion, 5);
  assert.match(manifest.version, /^\d+\.\d+\.\d+$/);
  assert.equal(manifest.host.app, "premierepro");
  assert.match(manifest.host.minVersion, /^\d+\.\d+\.\d+$/, "x.y.z, as the manifest page and Adobe's samples write it");
  assert.equal(manifest.host.minVersion, "25.6.0");
  assert.ok(fs.existsSync(path.join(PLUGIN, manifest.main)), `${manifest.main} exists`);
});

test("one panel entrypoint, set up under the same id by main.js", () => {
  const panels = manifest.entrypoints.filter((e) => e.type === "panel");
  assert.equal(panels.length, 1);
  assert.ok(panels[0].label && panels[0].label.default);
  const main = fs.readFileSync(path.join(PLUGIN, "main.js"), "utf8");
  assert.match(main, new RegExp(`\\b${panels[0].id}\\s*:`));
  const html = fs.readFileSync(path.join(PLUGIN, manifest.main), "utf8");
  assert.match(html, /<script src="main\.js"><\/script>/);
});

test("permissions: both loopback forms of the daemon's address, and the file picker", () => {
  const domains = manifest.requiredPermissions.network.domains;
  assert.ok(Array.isArray(domains), "domains is a list ('all' only as a bare string)");
  assert.deepEqual(domains, ["http://127.0.0.1:7331", "http://localhost:7331"]);
  assert.ok(["request", "fullAccess"].includes(manifest.requiredPermissions.localFileSystem));
});

test("every address form the panel accepts for the default daemon fetches from a declared domain", () => {
  const { DaemonClient } = require("../src/daemon.js");
  const domains = manifest.requiredPermissions.network.domains;
  for (const typed of ["", "127.0.0.1:7331", "http://127.0.0.1:7331/", "localhost:7331", "http://localhost:7331", "HTTP://LOCALHOST:7331/"]) {
    const base = new DaemonClient({ address: typed, fetchImpl: async () => null }).base;
    assert.ok(domains.includes(base.toLowerCase()), `${JSON.stringify(typed)} → ${base}`);
  }
});
