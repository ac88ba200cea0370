#!/usr/bin/env node
// report_driver.js - opens an HTML report of `swarm-cli report --format html` from a file in
// headless Chromium (cdp.js), for test_report.sh. Checks that the page needs nothing from the
// network (every request is the file itself), logs no console error, and shows its four charts
// with lines, the per-action table and its header; saves a screenshot. Prints one JSON object;
// exits non-zero on any failure.
//
//   node report_driver.js REPORT.html PROFILE_DIR SCREENSHOT.png
'use strict';
const path = require('path');
const cdp = require('./cdp');

const [file, profile, shot] = process.argv.slice(2);
if (!shot) {
  console.error('usage: report_driver.js REPORT.html PROFILE_DIR SCREENSHOT.png');
  process.exit(2);
}
const url = 'file://' + path.resolve(file);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main(page) {
  const deadline = Date.now() + 40000;
  await page.navigate(url);
  let state;
  while (Date.now() < deadline) {
    state = await page.evaluate(`(() => {
      const charts = [...document.querySelectorAll('figure.chart')].map((f) => ({
        id: f.id, lines: f.querySelectorAll('polyline').length,
        points: f.querySelector('svg').getAttribute('data-points'),
        width: f.querySelector('svg').getBoundingClientRect().width }));
      return { ready: document.readyState === 'complete', title: document.title,
               h1: (document.querySelector('h1') || {}).textContent || '',
               charts, rows: document.querySelectorAll('#stats tbody tr').length,
               names: [...document.querySelectorAll('#stats tbody td:nth-child(2)')].map((t) => t.textContent),
               thresholds: document.querySelectorAll('#thresholds li').length,
               scripts: document.querySelectorAll('script').length };
    })()`);
    if (state.ready) break;
    await sleep(100);
  }
  const problems = [];
  if (!state || !state.ready) problems.push('page did not load');
  const requests = page.requests().filter((u) => u !== url);
  if (requests.length) problems.push('network requests: ' + requests.join(' '));
  const errors = page.errors();
  if (errors.length) problems.push('console errors: ' + errors.join(' | '));
  for (const id of ['chart-connected', 'chart-rps', 'chart-errors', 'chart-latency']) {
    const c = state.charts.find((x) => x.id === id);
    if (!c) problems.push('no chart ' + id);
    else if (id !== 'chart-errors' && c.lines < 1) problems.push(id + ' draws no line');
    else if (c.width < 200) problems.push(id + ' is ' + c.width + ' px wide');
  }
  if (state.rows < 2) problems.push('per-action table has ' + state.rows + ' rows');
  if (state.scripts) problems.push('the page carries scripts');
  await page.screenshot(shot);
  process.stdout.write(JSON.stringify({ ok: problems.length === 0, problems, state }) + '\n');
  return problems.length === 0;
}

cdp.open(profile, { width: 1300, height: 1600 }).then((page) =>
  main(page).then((ok) => { page.close(); process.exit(ok ? 0 : 1); }, (e) => {
    process.stdout.write(JSON.stringify({ ok: false, error: String(e), stderr: page.stderr() }) + '\n');
    page.close();
    process.exit(1);
  }), (e) => { console.error(String(e)); process.exit(1); });
