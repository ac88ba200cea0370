// cdp.js - headless Chromium over the DevTools protocol on a pipe (--remote-debugging-pipe:
// no WebSocket, no npm packages), for the drivers of the integration tests that open a page
// and look at it (report_driver.js, page_check.js).
//
//   const page = await require('./cdp').open(PROFILE_DIR, { width, height });
//   await page.navigate(URL); await page.evaluate(EXPR); page.events; await page.screenshot(FILE);
//   page.close();
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');

async function open(profile, size) {
  const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
  const w = (size && size.width) || 1300, h = (size && size.height) || 1200;
  const browser = spawn(CHROMIUM, [
    '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-quic',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-crash-reporter', '--disable-breakpad', '--disable-extensions', '--mute-audio',
    '--no-default-browser-check', '--hide-scrollbars', '--disable-dev-shm-usage',
    `--window-size=${w},${h}`, '--user-data-dir=' + profile, '--remote-debugging-pipe',
    'about:blank',
  ], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
  let stderr = '';
  browser.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  // messages over fds 3 (to the browser) and 4 (from it), separated by NUL
  const toBrowser = browser.stdio[3], fromBrowser = browser.stdio[4];
  let nextId = 1, inbuf = Buffer.alloc(0);
  const waiting = new Map(), events = [];
  fromBrowser.on('data', (chunk) => {
    inbuf = Buffer.concat([inbuf, chunk]);
    let at;
    while ((at = inbuf.indexOf(0)) >= 0) {
      const msg = JSON.parse(inbuf.subarray(0, at).toString('utf8'));
      inbuf = inbuf.subarray(at + 1);
      if (!msg.id) { events.push(msg); continue; }
      const wt = waiting.get(msg.id);
      if (!wt) continue;
      waiting.delete(msg.id);
      if (msg.error) wt.reject(new Error(wt.method + ': ' + msg.error.message));
      else wt.resolve(msg.result);
    }
  });
  const send = (method, params, sessionId) => {
    const id = nextId++;
    const msg = { id, method, params: params || {} };
    if (sessionId) msg.sessionId = sessionId;
    return new Promise((resolve, reject) => {
      waiting.set(id, { resolve, reject, method });
      toBrowser.write(JSON.stringify(msg) + '\0');
    });
  };
  const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
  const cmd = (m, p) => send(m, p, sessionId);
  for (const d of ['Network', 'Runtime', 'Log', 'Page']) await cmd(d + '.enable');
  return {
    events,
    stderr: () => stderr,
    navigate: (url) => cmd('Page.navigate', { url }),
    evaluate: async (expr) => {
      const r = await cmd('Runtime.evaluate', { expression: expr, returnByValue: true });
      if (r.exceptionDetails) throw new Error('page: ' + r.exceptionDetails.text);
      return r.result.value;
    },
    screenshot: async (file) => {
      const s = await cmd('Page.captureScreenshot', { format: 'png' });
      fs.writeFileSync(file, Buffer.from(s.data, 'base64'));
    },
    // console errors, failed loads and uncaught exceptions seen so far
    errors: () => events.filter((e) => (e.method === 'Runtime.consoleAPICalled' && e.params.type === 'error') ||
      (e.method === 'Log.entryAdded' && e.params.entry.level === 'error') ||
      e.method === 'Runtime.exceptionThrown').map((e) => JSON.stringify(e.params).slice(0, 300)),
    requests: () => events.filter((e) => e.method === 'Network.requestWillBeSent')
      .map((e) => e.params.request.url),
    close: () => browser.kill('SIGKILL'),
  };
}

module.exports = { open };
