#!/usr/bin/env node
// web_driver.js - drives the coordinator's dashboard in headless Chromium over the DevTools
// protocol on a pipe (--remote-debugging-pipe: no WebSocket, no npm packages), for
// test_web.sh. Prints one JSON object per step on stdout; exits non-zero on any failure.
//
//   node web_driver.js URL PROFILE_DIR SCREENSHOT.png EXPECT_CONNECTED EXPECT_CHARGERS 'COMMAND'
//
// Environment: WEB_LOGIN=USER:PASSWORD signs in through the page's form first; WEB_VIEWER=
// USER:PASSWORD signs out at the end and in again with a viewer's credentials; WEB_EXPECT_BY
// (default web:anonymous) is who the commands panel must name; CHROMIUM_ARGS adds flags
// (blank-separated, e.g. the test CA's key pin for https).
//
// Steps: load the page (sign in); wait until its cards show the expected connected/chargers
// counts; type COMMAND into the form and click Send like a user; wait for the summary; find
// the command with its sender in the commands panel; check the events list (text only, no
// markup from data); check the latency cards are not cut at several widths; check that the
// page met no Content-Security-Policy violation and that its script cannot read the session
// cookie; save a screenshot; (sign out, sign in as the viewer: no command line); close.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');

const [url, profile, shot, wantConnected, wantChargers, command] = process.argv.slice(2);
if (!command) {
  console.error('usage: web_driver.js URL PROFILE SCREENSHOT CONNECTED CHARGERS COMMAND');
  process.exit(2);
}
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const deadline = Date.now() + 50000;
const creds = (v) => { if (!v) return null; const i = v.indexOf(':'); return { user: v.slice(0, i), password: v.slice(i + 1) }; };
const login = creds(process.env.WEB_LOGIN), viewer = creds(process.env.WEB_VIEWER);
const expectBy = process.env.WEB_EXPECT_BY || 'web:anonymous';
const extraArgs = (process.env.CHROMIUM_ARGS || '').split(' ').filter((a) => a);

const browser = spawn(CHROMIUM, [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-crash-reporter', '--disable-breakpad', '--disable-extensions', '--mute-audio',
  '--no-default-browser-check', '--hide-scrollbars', '--disable-dev-shm-usage',
  '--window-size=1400,1200', '--user-data-dir=' + profile, '--remote-debugging-pipe',
  ...extraArgs, 'about:blank',
], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
let stderr = '';
browser.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
let exited = false;
browser.on('exit', () => { exited = true; });

// ---- CDP over fds 3 (to the browser) and 4 (from it), messages separated by NUL ----
const toBrowser = browser.stdio[3], fromBrowser = browser.stdio[4];
let nextId = 1, inbuf = Buffer.alloc(0);
const waiting = new Map();
fromBrowser.on('data', (chunk) => {
  inbuf = Buffer.concat([inbuf, chunk]);
  let at;
  while ((at = inbuf.indexOf(0)) >= 0) {
    const msg = JSON.parse(inbuf.subarray(0, at).toString('utf8'));
    inbuf = inbuf.subarray(at + 1);
    const w = msg.id && waiting.get(msg.id);
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
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

async function main() {
  const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
  const page = (m, p) => send(m, p, sessionId);
  const evaluate = async (expr) => {
    const r = await page('Runtime.evaluate', { expression: expr, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error('page: ' + (r.exceptionDetails.exception?.description || r.exceptionDetails.text));
    return r.result.value;
  };
  const until = async (what, expr) => {
    let last;
    while (Date.now() < deadline) {
      last = await evaluate(expr);
      if (last && last.ok) return last;
      await sleep(100);
    }
    throw new Error('timed out waiting for ' + what + ': ' + JSON.stringify(last));
  };

  await page('Page.enable');
  await page('Runtime.enable');
  // Every Content-Security-Policy violation of the page, counted from its first script on.
  await page('Page.addScriptToEvaluateOnNewDocument', { source:
    "window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));" });
  const size = (width) => page('Emulation.setDeviceMetricsOverride', { width, height: 1200, deviceScaleFactor: 1, mobile: false });
  await size(1400);
  await page('Page.navigate', { url });
  const click = async (id) => {
    const box = await evaluate(`(() => { const r = document.getElementById('${id}').getBoundingClientRect();
                                         return { x: r.x + r.width / 2, y: r.y + r.height / 2 }; })()`);
    for (const type of ['mousePressed', 'mouseReleased'])
      await page('Input.dispatchMouseEvent', { type, x: box.x, y: box.y, button: 'left', clickCount: 1 });
  };
  const signIn = async (who) => {
    await until('the sign-in form', "(() => { const f = document.getElementById('login'); return { ok: !!f && !f.hidden }; })()");
    await evaluate("document.getElementById('login-user').value = '', document.getElementById('login-user').focus(), true");
    await page('Input.insertText', { text: who.user });
    await evaluate("document.getElementById('login-password').focus(), true");
    await page('Input.insertText', { text: who.password });
    await click('login-send');
    const r = await until('signed in', `(() => ({ ok: document.getElementById('login').hidden,
        who: document.getElementById('who').textContent,
        error: document.getElementById('login-error').textContent }))()`);
    out({ step: 'login', user: who.user, who: r.who });
  };
  if (login) await signIn(login);
  await until('the page to load its first status', "({ ok: document.body && document.body.dataset.loaded === '1' })");

  const num = (id) => `Number((document.getElementById('${id}').textContent || '').replace(/,/g, ''))`;
  const status = await until('the cards to show the fleet', `(() => {
      const connected = ${num('fleet-connected')}, chargers = ${num('fleet-chargers')};
      return { ok: connected === ${Number(wantConnected)} && chargers === ${Number(wantChargers)},
               connected, chargers, workers: ${num('fleet-workers')},
               rows: document.querySelectorAll('#workers tr[data-worker]').length,
               role: document.getElementById('role').textContent,
               lat_cmd: document.getElementById('lat-cmd').textContent,
               title: document.title };
    })()`);
  out({ step: 'status', ...status });

  // Type the command and click Send, as a user would.
  await evaluate("document.getElementById('cmd-line').focus(), true");
  await page('Input.insertText', { text: command });
  await click('cmd-send');
  const result = await until('the command summary', `(() => {
      const s = document.getElementById('cmd-summary');
      return { ok: s.dataset.state === 'ok' || s.dataset.state === 'error', state: s.dataset.state,
               summary: s.textContent,
               errors: [...document.querySelectorAll('#cmd-errors li')].map((li) => li.textContent) };
    })()`);
  out({ step: 'command', ...result });

  // The commands panel ({ns}:cmdlog) names who sent it.
  const sent = await until('the command in the commands panel with its sender', `(() => {
      const items = [...document.querySelectorAll('#commands li')];
      const mine = items.find((li) => li.textContent.includes(${JSON.stringify(command)}));
      return { ok: !!mine && mine.dataset.by === ${JSON.stringify(expectBy)},
               by: mine ? mine.dataset.by : null, text: mine ? mine.textContent : null, count: items.length };
    })()`);
  out({ step: 'commands', ...sent });

  // Events arrive as text: whatever the publisher wrote, no element comes from it.
  const events = await until('the hostile event in the events list', `(() => {
      const items = [...document.querySelectorAll('#events li')].map((li) => li.textContent);
      return { ok: items.some((t) => t.includes('xss-probe')), count: items.length,
               joined: items.some((t) => t.includes('worker_joined')),
               probe: items.find((t) => t.includes('xss-probe')) || null,
               injected: document.querySelectorAll('#events img, #events b, #events script').length,
               fired: window.__xss === 1 };
    })()`);
  out({ step: 'events', ...events });

  // The latency cards hold the widest value they can get (30 s as ms, twice) at every width.
  const cards = [];
  for (const width of [1400, 1100, 800, 500, 360]) {
    await size(width);
    cards.push(await evaluate(`new Promise((done) => {
        for (const id of ['lat-ack', 'lat-cmd']) document.getElementById(id).textContent = '30,000.0 / 30,000.0';
        requestAnimationFrame(() => requestAnimationFrame(() => {
          const cut = [...document.querySelectorAll('.card .value, .card .label')]
            .filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => (e.id || e.textContent).trim());
          done({ width: ${width}, cut });
        }));
      })`));
  }
  await size(1400);
  out({ step: 'cards', ok: cards.every((c) => c.cut.length === 0), cards });

  // Nothing the CSP blocked; the session cookie is out of the script's reach (HttpOnly).
  out({ step: 'csp', ...(await evaluate(`({ violations: window.__csp,
      cookie_visible: document.cookie.includes('cs_session') })`)) });

  // A few seconds of history so the charts in the screenshot have lines.
  await until('a few points of history in the charts', "({ ok: Number(document.body.dataset.points) >= 4 })");
  const png = await page('Page.captureScreenshot', { format: 'png', captureBeyondViewport: false });
  fs.writeFileSync(shot, Buffer.from(png.data, 'base64'));
  out({ step: 'screenshot', file: shot, bytes: fs.statSync(shot).size });

  if (viewer) {
    await click('sign-out');
    await signIn(viewer);
    await until('the viewer\'s page', "({ ok: document.body.dataset.loaded === '1' })");
    const v = await evaluate(`(async () => {
        const r = await fetch('/api/command', { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                                body: JSON.stringify({ line: 'ping' }) });
        return { panel_hidden: document.getElementById('cmd-panel').hidden,
                 note: document.getElementById('cmd-off').textContent,
                 who: document.getElementById('who').textContent, post_status: r.status };
      })()`);
    out({ step: 'viewer', ...v });
  }
}

async function close(code) {
  try { if (!exited) await Promise.race([send('Browser.close'), sleep(3000)]); } catch (e) { /* gone */ }
  for (let i = 0; i < 50 && !exited; i++) await sleep(100);
  if (!exited) browser.kill('SIGKILL');
  for (let i = 0; i < 20 && !exited; i++) await sleep(100);
  process.exit(code);
}

main().then(() => close(0), (e) => {
  console.error('web_driver: ' + e.message);
  if (stderr) console.error('chromium stderr (tail):\n' + stderr);
  close(1);
});
