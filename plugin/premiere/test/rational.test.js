"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const R = require("../src/rational.js");
const { framesToTicks } = require("./helpers.js");

const eq = (f, n, d = 1n) => assert.deepEqual(f, R.frac(n, d));

test("exactRate maps rounded NTSC rates to exact fractions, as reelmark.core.times.exact_rate does", () => {
  for (const rate of [29.97, 29.97002997002997, "29.97", "30000/1001"]) eq(R.exactRate(rate), 30000n, 1001n);
  for (const rate of [23.976, 23.98, 23.976023976023978]) eq(R.exactRate(rate), 24000n, 1001n);
  for (const rate of [59.94, 59.94005994005994]) eq(R.exactRate(rate), 60000n, 1001n);
  eq(R.exactRate(47.952), 48000n, 1001n);
  eq(R.exactRate(119.88), 120000n, 1001n);
  eq(R.exactRate(25.0), 25n);
  eq(R.exactRate(24), 24n);
  eq(R.exactRate(30), 30n);
  eq(R.exactRate(12.5), 25n, 2n);
  assert.throws(() => R.exactRate(0), /positive/);
});

test("limitDenominator finds the closest fraction with a bounded denominator", () => {
  eq(R.limitDenominator(R.toFraction("3.141592653589793"), 1000n), 355n, 113n);
  eq(R.limitDenominator(R.frac(1n, 3n), 10n), 1n, 3n);
  eq(R.limitDenominator(R.toFraction("0.1"), 1000n), 1n, 10n);
});

test("numbers are read as the decimals they print as, never the binary double", () => {
  eq(R.toFraction(0.1), 1n, 10n);
  eq(R.toFraction(107896.0), 107896n);
  eq(R.toFraction("1e-3"), 1n, 1000n);
  eq(R.toFraction("1001/30000"), 1001n, 30000n);
  eq(R.fromWireTime({ value: "1001", rate: "30000" }), 1001n, 30000n);
  eq(R.fromWireTime({ value: 7007, rate: 1875 }), 7007n, 1875n);
  eq(R.fromWireTime({ rate: "1" }), 0n); // proto3 JSON drops a zero value
  assert.throws(() => R.toFraction("abc"), TypeError);
  assert.throws(() => R.toFraction(Number.NaN), RangeError);
});

test("every frame boundary of 30000/1001 and 25 fps lands on an exact tick", () => {
  for (const frames of [0n, 1n, 6n, 29n, 30n, 107892n, 2589408n]) {
    const ntsc = R.secondsToTicks(R.div(R.frac(frames), R.frac(30000n, 1001n)));
    assert.equal(ntsc.exact, true);
    assert.equal(ntsc.ticks, framesToTicks(frames, 30000n, 1001n));
    const pal = R.secondsToTicks(R.div(R.frac(frames), R.frac(25n)));
    assert.equal(pal.exact, true);
    assert.equal(pal.ticks, framesToTicks(frames, 25n));
  }
  assert.equal(R.secondsToTicks(R.frac(1001n, 30000n)).ticks, 8475667200n);
  assert.equal(R.secondsToTicks(R.frac(1n, 25n)).ticks, 10160640000n);
});

test("OTIO's float 29.97 rates give exact ticks where float arithmetic does not", () => {
  // Frame 265685 at 29.97002997002997 (what OTIO writes for 30000/1001): float seconds are one tick off;
  // at 29.97 (a rounded rate some tools write) every frame is thousands of ticks off. The exact route is not.
  for (const [frames, rate] of [[265685, 29.97002997002997], [1, 29.97], [107898, 29.97]]) {
    const exact = framesToTicks(frames, 30000n, 1001n);
    const floatTicks = BigInt(Math.round((frames / rate) * 254016000000));
    assert.notEqual(floatTicks, exact, `float route happens to be right at frame ${frames}`);
    const ours = R.secondsToTicks(R.div(R.toFraction(frames), R.exactRate(rate)));
    assert.equal(ours.ticks, exact);
    assert.equal(ours.exact, true);
  }
});

test("off-grid times round to the nearest tick and say so", () => {
  const third = R.secondsToTicks(R.frac(1n, 3n * 254016000000n));
  assert.equal(third.exact, false);
  assert.equal(third.ticks, 0n);
  const twoThirds = R.secondsToTicks(R.frac(2n, 3n * 254016000000n));
  assert.equal(twoThirds.ticks, 1n);
});

test("timecode display counts whole frames at the nominal rate", () => {
  assert.equal(R.formatTimecode(R.frac(1001n, 5000n), R.frac(30000n, 1001n)), "00:00:00:06");
  assert.equal(R.formatTimecode(R.frac(31n, 25n), R.frac(25n)), "00:00:01:06");
  assert.equal(R.formatTimecode(R.frac(3600n), R.frac(25n)), "01:00:00:00");
  assert.equal(R.toDecimalString(R.frac(1001n, 1000n), 2), "1.00");
  assert.equal(R.toDecimalString(R.frac(7007n, 1875n), 3), "3.737");
});
