// UXP entry point: the real host modules go to the panel, which knows nothing about where they came from.
"use strict";

const { entrypoints } = require("uxp");
const ppro = require("premierepro");
const { startPanel } = require("./src/panel.js");

let started = false;

entrypoints.setup({
  panels: {
    reelmarkPanel: {
      show() {
        if (started) return;
        started = true;
        startPanel({ document, ppro, uxp: require("uxp"), fetchImpl: (...args) => fetch(...args), storage: window.localStorage });
      },
    },
  },
});
