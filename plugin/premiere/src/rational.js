// Exact time for the Premiere panel: rationals as BigInt pairs, and Premiere ticks (254016000000 per second).
//
// DESIGN §3: time stays rational end to end. The daemon sends {value, rate} meaning value/rate seconds; OTIO
// files carry float frame counts at float rates (29.97002997…); Premiere wants integer ticks. Nothing here goes
// through a float number of seconds, so 30000/1001 material keeps every frame boundary.
"use strict";

const TICKS_PER_SECOND = 254016000000n;

function abs(value) {
  return value < 0n ? -value : value;
}

function gcd(a, b) {
  a = abs(a);
  b = abs(b);
  while (b !== 0n) {
    [a, b] = [b, a % b];
  }
  return a;
}

// Floor division for BigInt (the `/` operator truncates toward zero).
function floorDiv(n, d) {
  const q = n / d;
  return (n % d !== 0n && (n < 0n) !== (d < 0n)) ? q - 1n : q;
}

/** A fraction n/d in lowest terms with d > 0. */
function frac(n, d = 1n) {
  n = BigInt(n);
  d = BigInt(d);
  if (d === 0n) throw new RangeError("a fraction cannot have a zero denominator");
  if (d < 0n) {
    n = -n;
    d = -d;
  }
  const g = gcd(n, d) || 1n;
  return { n: n / g, d: d / g };
}

/** Read a decimal string ("107896.0", "29.97002997002997", "1e-3") exactly, as the decimal it spells. */
function parseDecimal(text) {
  const match = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/.exec(text);
  if (!match || (match[2] === "" && (match[3] === undefined || match[3] === ""))) {
    throw new TypeError(`cannot read ${JSON.stringify(text)} as an exact number`);
  }
  const [, sign, whole, fraction = "", exponent = "0"] = match;
  let n = BigInt((whole || "0") + fraction);
  let d = 10n ** BigInt(fraction.length);
  const e = BigInt(exponent);
  if (e >= 0n) n *= 10n ** e;
  else d *= 10n ** -e;
  return frac(sign === "-" ? -n : n, d);
}

/**
 * Any number the wire or a file can hold, exactly: a BigInt, an integer string, "30000/1001", a decimal string,
 * or a JS number. A number is read as the shortest decimal that round-trips it (what String(x) prints, as
 * Python's repr does), so 29.97 means 2997/100, not the binary double's expansion.
 */
function toFraction(value) {
  if (value && typeof value === "object" && typeof value.n === "bigint") return frac(value.n, value.d);
  if (typeof value === "bigint") return frac(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new RangeError(`${value} is not a finite number`);
    return parseDecimal(String(value));
  }
  if (typeof value === "string") {
    const slash = value.indexOf("/");
    if (slash >= 0) {
      const n = toFraction(value.slice(0, slash));
      const d = toFraction(value.slice(slash + 1));
      return div(n, d);
    }
    return parseDecimal(value);
  }
  throw new TypeError(`cannot read ${JSON.stringify(value)} as an exact number`);
}

/** A wire Time {value, rate} (int64s, as JSON numbers or strings) as a fraction of seconds. */
function fromWireTime(time) {
  if (!time || time.value === undefined || time.rate === undefined) {
    // proto3 JSON leaves out zero fields: an absent value is 0 seconds.
    if (time && time.rate !== undefined) return frac(0n);
    throw new TypeError(`not a reelmark time: ${JSON.stringify(time)}`);
  }
  const value = toFraction(time.value);
  const rate = toFraction(time.rate);
  if (value.d !== 1n || rate.d !== 1n) throw new TypeError(`a reelmark time has whole value and rate: ${JSON.stringify(time)}`);
  return frac(value.n, rate.n);
}

/** The wire form {value, rate} of a fraction of seconds (strings, as proto3 JSON prints int64). */
function toWireTime(f) {
  return { value: f.n.toString(), rate: f.d.toString() };
}

function add(a, b) {
  return frac(a.n * b.d + b.n * a.d, a.d * b.d);
}

function sub(a, b) {
  return frac(a.n * b.d - b.n * a.d, a.d * b.d);
}

function mul(a, b) {
  return frac(a.n * b.n, a.d * b.d);
}

function div(a, b) {
  if (b.n === 0n) throw new RangeError("division by zero");
  return frac(a.n * b.d, a.d * b.n);
}

function cmp(a, b) {
  const left = a.n * b.d;
  const right = b.n * a.d;
  return left < right ? -1 : left > right ? 1 : 0;
}

/** The closest fraction to `f` whose denominator is at most `maxDenominator` (continued fractions). */
function limitDenominator(f, maxDenominator) {
  const limit = BigInt(maxDenominator);
  if (f.d <= limit) return f;
  // Convergents p/q of the continued fraction of n/d, stopping before q passes the limit.
  let [p0, q0, p1, q1] = [0n, 1n, 1n, 0n];
  let [n, d] = [f.n, f.d];
  for (;;) {
    const a = floorDiv(n, d);
    const q2 = q0 + a * q1;
    if (q2 > limit) break;
    [p0, q0, p1, q1] = [p1, q1, p0 + a * p1, q2];
    [n, d] = [d, n - a * d];
  }
  // The best approximation is the last convergent or the largest semiconvergent that fits.
  const k = (limit - q0) / q1;
  const semi = frac(p0 + k * p1, q0 + k * q1);
  const convergent = frac(p1, q1);
  const distance = (x) => {
    const diff = sub(x, f);
    return { n: abs(diff.n), d: diff.d };
  };
  return cmp(distance(convergent), distance(semi)) <= 0 ? convergent : semi;
}

const NTSC_RATES = [24n, 30n, 48n, 60n, 120n].map((n) => frac(n * 1000n, 1001n));
const NTSC_TOLERANCE = frac(1n, 200n);

/**
 * The exact frame rate a rounded one stands for, as reelmark.core.times.exact_rate reads it: anything within
 * 1/200 of an NTSC rate (29.97, 29.97002997…, 23.976, 23.98, 59.94…) is that rate (30000/1001…); any other
 * rate is the nearest fraction with a denominator of at most 1001 (25 stays 25).
 */
function exactRate(rate) {
  const r = toFraction(rate);
  if (r.n <= 0n) throw new RangeError(`frame rate must be positive, got ${rate}`);
  for (const ntsc of NTSC_RATES) {
    const diff = sub(r, ntsc);
    if (cmp({ n: abs(diff.n), d: diff.d }, NTSC_TOLERANCE) < 0) return ntsc;
  }
  return limitDenominator(r, 1001n);
}

/**
 * Premiere ticks for a fraction of seconds. Exact whenever the time lies on the tick grid, which every frame
 * boundary of 24000/1001, 30000/1001, 60000/1001, 25, 50… does; otherwise the nearest tick (halves away from
 * zero), and `exact` says so.
 */
function secondsToTicks(seconds) {
  const scaled = seconds.n * TICKS_PER_SECOND;
  const exact = scaled % seconds.d === 0n;
  const ticks = exact ? scaled / seconds.d : (scaled >= 0n ? 1n : -1n) * floorDiv(2n * abs(scaled) + seconds.d, 2n * seconds.d);
  return { ticks, exact };
}

function ticksToSeconds(ticks) {
  return frac(BigInt(ticks), TICKS_PER_SECOND);
}

/** Frames from zero to `seconds` at `rate` (floor: the frame on screen at that instant). */
function framesAt(seconds, rate) {
  const f = mul(seconds, rate);
  return floorDiv(f.n, f.d);
}

/**
 * A time for people to read: HH:MM:SS:FF counting whole frames at the rate's nominal frame count per second
 * (30 for 30000/1001), as Premiere's non-drop-frame display does. Display only; never parsed back.
 */
function formatTimecode(seconds, rate) {
  const fps = (rate.n + rate.d - 1n) / rate.d;
  let frames = framesAt(seconds, rate);
  const negative = frames < 0n;
  if (negative) frames = -frames;
  const ff = frames % fps;
  const totalSeconds = frames / fps;
  const pad = (v) => v.toString().padStart(2, "0");
  const text = `${pad(totalSeconds / 3600n)}:${pad((totalSeconds / 60n) % 60n)}:${pad(totalSeconds % 60n)}:${pad(ff)}`;
  return negative ? `-${text}` : text;
}

/** A fraction as a decimal string with `places` digits, for display (rounded half up). */
function toDecimalString(f, places = 3) {
  const scale = 10n ** BigInt(places);
  const scaled = floorDiv(2n * f.n * scale + f.d, 2n * f.d);
  const negative = scaled < 0n;
  const digits = abs(scaled).toString().padStart(places + 1, "0");
  const text = places ? `${digits.slice(0, -places)}.${digits.slice(-places)}` : digits;
  return negative ? `-${text}` : text;
}

module.exports = {
  TICKS_PER_SECOND,
  frac,
  toFraction,
  parseDecimal,
  fromWireTime,
  toWireTime,
  add,
  sub,
  mul,
  div,
  cmp,
  limitDenominator,
  exactRate,
  secondsToTicks,
  ticksToSeconds,
  framesAt,
  formatTimecode,
  toDecimalString,
};
