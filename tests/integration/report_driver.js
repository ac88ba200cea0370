#!/usr/bin/env node
// report_driver.js - opens an HTML report of `swarm-cli report --format html` from a file in
// headless Chromium over the DevTools protocol on a pipe (no npm packages), for
// test_report.sh and test_scenario.sh. Checks that the page needs nothing from the network
// (every request is the file itself), logs no console error, and shows its four charts with
// lines, the per-action table and its header; saves a screenshot. Prints one JSON object;
// exits non-zero on any failure.
//
//   node report_driver.js REPORT.html PROFILE_DIR SCREENSHOT.png
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');

const [file, profile, shot] = process.argv.slice(2);
if (!shot) {
  console.error('usage: report_driver.js REPORT.html PROFILE_DIR SCREENSHOT.png');
  process.exit(2);
}
const url = 'file://' + path.resolve(file);
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const deadline = Date.now() + 40000;

const browser = spawn(CHROMIUM, [
  '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-crash-reporter', '--disable-breakpad', '--disable-extensions', '--mute-audio',
  '--no-default-browser-check', '--hide-scrollbars', '--disable-dev-shm-usage',
  '--window-size=1300,1600', '--user-data-dir=' + profile, '--remote-debugging-pipe',
  'about:blank',
], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
let stderr = '';
browser.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });

// ---- CDP over fds 3 (to the browser) and 4 (from it), messages separated by NUL ----
const toBrowser = browser.stdio[3], fromBrowser = browser.stdio[4];
let nextId = 1, inbuf = Buffer.alloc(0);
const waiting = new Map();
const events = [];
fromBrowser.on('data', (chunk) => {
  inbuf = Buffer.concat([inbuf, chunk]);
  let at;
  while ((at = inbuf.indexOf(0)) >= 0) {
    const msg = JSON.parse(inbuf.subarray(0, at).toString('utf8'));
    inbuf = inbuf.subarray(at + 1);
    if (!msg.id) { events.push(msg); continue; }
    const w = waiting.get(msg.id);
    if (!w) continue;
    waiting.delete(msg.id);
    if (msg.error) w.reject(new Error(w.method + ': ' + msg.error.message));
    else w.resolve(msg.result);
  }
});
function send(method, params, sessionId) {
  const id = nextId++;
  const msg = { id, method, params: params || {} };
  if (sessionId) msg.sessionId = sessionId;
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject, method });
    toBrowser.write(JSON.stringify(msg) + '\0');
  });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
  const page = (m, p) => send(m, p, sessionId);
  await page('Network.enable');
  await page('Runtime.enable');
  await page('Log.enable');
  await page('Page.enable');
  await page('Page.navigate', { url });
  const evaluate = async (expr) => {
    const r = await page('Runtime.evaluate', { expression: expr, returnByValue: true });
    if (r.exceptionDetails) throw new Error('page: ' + r.exceptionDetails.text);
    return r.result.value;
  };
  let state;
  while (Date.now() < deadline) {
    state = await evaluate(`(() => {
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
  const requests = events.filter((e) => e.method === 'Network.requestWillBeSent')
    .map((e) => e.params.request.url).filter((u) => u !== url);
  if (requests.length) problems.push('network requests: ' + requests.join(' '));
  const errors = events.filter((e) => (e.method === 'Runtime.consoleAPICalled' && e.params.type === 'error') ||
    (e.method === 'Log.entryAdded' && e.params.entry.level === 'error') || e.method === 'Runtime.exceptionThrown')
    .map((e) => JSON.stringify(e.params).slice(0, 300));
  if (errors.length) problems.push('console errors: ' + errors.join(' | '));
  const want = ['chart-connected', 'chart-rps', 'chart-errors', 'chart-latency'];
  for (const id of want) {
    const c = state.charts.find((x) => x.id === id);
    if (!c) problems.push('no chart ' + id);
    else if (id !== 'chart-errors' && c.lines < 1) problems.push(id + ' draws no line');
    else if (c.width < 200) problems.push(id + ' is ' + c.width + ' px wide');
  }
  if (state.rows < 2) problems.push('per-action table has ' + state.rows + ' rows');
  if (state.scripts) problems.push('the page carries scripts');
  const shotData = await page('Page.captureScreenshot', { format: 'png' });
  fs.writeFileSync(shot, Buffer.from(shotData.data, 'base64'));
  process.stdout.write(JSON.stringify({ ok: problems.length === 0, problems, state }) + '\n');
  return problems.length === 0;
}

main().then((ok) => { browser.kill('SIGKILL'); process.exit(ok ? 0 : 1); })
  .catch((e) => {
    process.stdout.write(JSON.stringify({ ok: false, error: String(e), stderr }) + '\n');
    browser.kill('SIGKILL');
    process.exit(1);
  });
