#!/usr/bin/env node
// page_check.js - opens URL in headless Chromium (cdp.js) and evaluates EXPR, a JavaScript
// expression returning {ok, ...}, every 100 ms until ok is true (at most 40 s); fails on a
// console error; saves a screenshot; prints the last value as JSON. Exit 0 when ok.
//
//   node page_check.js URL PROFILE_DIR SCREENSHOT.png 'EXPR'
'use strict';
const cdp = require('./cdp');

const [url, profile, shot, expr] = process.argv.slice(2);
if (!expr) {
  console.error('usage: page_check.js URL PROFILE_DIR SCREENSHOT.png EXPR');
  process.exit(2);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main(page) {
  const deadline = Date.now() + 40000;
  await page.navigate(url);
  let v;
  while (Date.now() < deadline) {
    try { v = await page.evaluate(expr); } catch (e) { v = { ok: false, error: String(e) }; }
    if (v && v.ok) break;
    await sleep(100);
  }
  const errors = page.errors();
  await page.screenshot(shot);
  const ok = !!(v && v.ok) && errors.length === 0;
  process.stdout.write(JSON.stringify({ ok, value: v, errors }) + '\n');
  return ok;
}

cdp.open(profile, { width: 1400, height: 1400 }).then((page) =>
  main(page).then((ok) => { page.close(); process.exit(ok ? 0 : 1); }, (e) => {
    process.stdout.write(JSON.stringify({ ok: false, error: String(e), stderr: page.stderr() }) + '\n');
    page.close();
    process.exit(1);
  }), (e) => { console.error(String(e)); process.exit(1); });
