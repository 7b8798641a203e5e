// Formatting shared by every page (static/contactcenter/format.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { clockTime, connectionLabel, formatDuration, secondsSince } from "../../static/contactcenter/format.js";

test("durations read m:ss, or h:mm:ss from an hour", () => {
  assert.equal(formatDuration(0), "0:00");
  assert.equal(formatDuration(75), "1:15");
  assert.equal(formatDuration(59.9), "0:59");
  assert.equal(formatDuration(3600), "1:00:00");
  assert.equal(formatDuration(3725), "1:02:05");
});

test("a negative, missing or nonsense duration is 0:00", () => {
  for (const value of [-5, null, undefined, "soon", NaN]) assert.equal(formatDuration(value), "0:00");
});

test("seconds since a time, whole, never negative, 0 when unknown", () => {
  const now = Date.parse("2025-03-03T09:00:00Z");
  assert.equal(secondsSince("2025-03-03T08:58:00.500Z", now), 119);
  assert.equal(secondsSince("2025-03-03T09:00:05Z", now), 0);
  assert.equal(secondsSince("not a time", now), 0);
  assert.equal(secondsSince(null, now), 0);
});

test("clock time is empty for what is not a time", () => {
  assert.equal(clockTime("not a time"), "");
  assert.match(clockTime(new Date(2025, 2, 3, 14, 5, 9), true), /14.05.09/);
  assert.match(clockTime(new Date(2025, 2, 3, 14, 5, 9)), /^14.05$/);
});

test("the connection line names each status; a refusal says why", () => {
  const refused = "Not allowed to use the console";
  assert.equal(connectionLabel("connecting", undefined, refused), "Connecting…");
  assert.equal(connectionLabel("connected", undefined, refused), "Connected");
  assert.equal(connectionLabel("reconnecting", 1006, refused), "Reconnecting…");
  assert.equal(connectionLabel("closed", 1000, refused), "Disconnected");
  assert.equal(connectionLabel("refused", 4401, refused), "Signed out — reload to log in");
  assert.equal(connectionLabel("refused", 4403, refused), refused);
  assert.equal(connectionLabel("something new", null, refused), "something new");
});
