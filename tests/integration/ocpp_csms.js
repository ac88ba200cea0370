#!/usr/bin/env node
// ocpp_csms.js - test peer for the OCPP-J transport: a CSMS (charging platform) built on the
// npm package ocpp-rpc in strict mode, so that every frame in both directions is checked
// against the official OCPP 1.6 JSON schemas that ocpp-rpc bundles. Needs ocpp-rpc on
// NODE_PATH (source ocpp_csms_setup.sh and call ocpp_csms_deps).
//
// Usage:
//   node ocpp_csms.js --port P [--host 127.0.0.1] [--path /ocpp] [--log FILE.jsonl]
//        [--auth USER:PASS] [--no-subprotocol] [--protocols ocpp1.6[,ocpp2.0.1]]
//        [--heartbeat S] [--boot-status Accepted|Pending|Rejected] [--id-tags T=S,...] [--ping S]
//        [--call-timeout S] [--loose-datetime] [--ctl-port P2]
//        [--tls-cert PEM --tls-key PEM [--tls-ca PEM]]
//
//   --path        the endpoint under which any identity is accepted (other paths: 404)
//   --auth        HTTP Basic auth required (401 with WWW-Authenticate otherwise); "{id}" in
//                 USER stands for the identity: --auth '{id}:secret'
//   --no-subprotocol  a misbehaving server (plain ws): completes the upgrade without a
//                 Sec-WebSocket-Protocol header; logs connects, disconnects and frames only
//   --protocols   subprotocols, in the server's order of preference (default ocpp1.6); a
//                 client offering none of them is refused with 400. A client on ocpp2.0.1 is
//                 answered in OCPP 2.0.1 (and validated against the 2.0.1 schemas).
//   --id-tags     TAG=Status,...: the idTagInfo status of Authorize and StartTransaction for
//                 these idTags (Accepted, Blocked, Expired, Invalid, ConcurrentTx; others: Accepted)
//   --heartbeat   BootNotification interval (default 60); --boot-status its status
//   --ping        WebSocket ping every S seconds, terminating a client that missed the
//                 previous pong (default 30, 0 = never)
//   --call-timeout  default timeout of /call and /send CALLs (default 10)
//   --loose-datetime  accept date-times the way ajv-formats 2.1.1 does (see below)
//   --tls-cert/--tls-key  wss:// with this certificate (security profile 2); --tls-ca also
//                 requires a client certificate signed by that CA (profile 3), its subject CN
//                 logged as "cert_cn" in the connect line
//
// Chargers connect to ws://HOST:PORT{path}/{identity}. Every frame is logged to the JSONL file:
//   {"t":ms,"dir":"in"|"out","charger":id,"frame":[...]}      ("raw":"..." if not JSON)
//   {"t":ms,"event":"connect","charger":id,"protocol":"ocpp1.6","remote":"127.0.0.1"}
//   {"t":ms,"event":"disconnect","charger":id,"code":1006,"reason":""}
//   {"t":ms,"event":"reject","charger":id,"status":401,"reason":"..."}   (refused upgrades)
//   {"t":ms,"event":"violation","charger":id,"dir":"in"|"out","method":m,"kind":"schema"|
//    "bad_message","type":"call"|"result"|null,"messageId":id,"code":"...","error":"..."}
//     kind "schema": ocpp-rpc's strictValidationFailure event (a CALL or CALLRESULT failing the
//     schema; for an inbound CALL ocpp-rpc answers CALLERROR with that code, for an inbound
//     CALLRESULT it sends nothing); "bad_message": ocpp-rpc's badMessage event (not JSON, not
//     an OCPP-J array, a reply to an id never sent...). An action the schemas do not know is
//     a schema violation with code NotImplemented, answered NotImplemented.
//   {"t":ms,"event":"late_reply","charger":id,"messageId":id}  a reply to one of our CALLs
//     that had already timed out or lost its connection (not a violation)
// --ctl-port: HTTP on 127.0.0.1:P2
//   POST /call {"charger":id,"method":m,"params":{...},"timeout_ms":N} -> 200 + the charger's
//        response payload; 404 not connected; 400 bad request or params failing the schema
//        (nothing sent); 502 {"error","code"} on CALLERROR, timeout, disconnect or a response
//        failing the schema.
//   POST /send {"charger":id,"frame":[...] or "text":"...","timeout_ms":N} -> sends a raw frame
//        bypassing validation (hostile tests); for a CALL frame waits for the reply with the
//        same id: 200 {"response":[...]} or 504 {"error":"timeout"}; otherwise 202 {}.
//   POST /drop {"charger":id} -> terminates the socket (no close frame); 200 {} or 404.
//   POST /close {"charger":id,"code":N} -> a close handshake from the server (default 1001).
//   GET /stats -> {"connected":N,"calls_in":N,"calls_out":N,"violations":N,"late_replies":N,
//        "chargers":[ids connected now]}  (calls_in/calls_out count CALL frames)
// A charger that connects again under the same identity replaces the older connection for
// /call, /send and /drop (the older one is left open). SIGTERM closes every connection with
// 1001 and exits 0 within a second.
'use strict';

const fs = require('fs');
const http = require('http');

function usage(msg) {
  if (msg) process.stderr.write(`ocpp-csms: ${msg}\n`);
  process.stderr.write('usage: node ocpp_csms.js --port P [--host H] [--path /ocpp] [--log FILE.jsonl] ' +
    '[--auth USER:PASS] [--no-subprotocol] [--protocols ocpp1.6,...] [--heartbeat S] ' +
    '[--boot-status Accepted|Pending|Rejected] [--id-tags TAG=Status,...] [--ping S] [--call-timeout S] [--loose-datetime] [--ctl-port P2]\n');
  process.exit(2);
}

// --- options ------------------------------------------------------------------------------
const opt = {
  port: null, host: '127.0.0.1', path: '/ocpp', log: null, auth: null, noSubprotocol: false, looseDatetime: false,
  protocols: ['ocpp1.6'], heartbeat: 60, bootStatus: 'Accepted', ping: 30, callTimeout: 10,
  ctlPort: null, tlsCert: null, tlsKey: null, tlsCa: null, idTags: {},
};
{
  const argv = process.argv.slice(2);
  const need = (i) => { if (i + 1 >= argv.length) usage(`${argv[i]} needs a value`); return argv[i + 1]; };
  const int = (s, name) => { if (!/^\d+$/.test(s)) usage(`${name}: not a number: ${s}`); return Number(s); };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--port': opt.port = int(need(i), a); i++; break;
      case '--host': opt.host = need(i); i++; break;
      case '--path': opt.path = need(i); i++; break;
      case '--log': opt.log = need(i); i++; break;
      case '--auth': {
        const v = need(i); i++;
        const c = v.indexOf(':');
        if (c < 0) usage('--auth wants USER:PASS');
        opt.auth = { user: v.slice(0, c), pass: v.slice(c + 1) };
        break;
      }
      case '--no-subprotocol': opt.noSubprotocol = true; break;
      case '--loose-datetime': opt.looseDatetime = true; break;
      case '--protocols': opt.protocols = need(i).split(',').map(s => s.trim()).filter(Boolean); i++; break;
      case '--heartbeat': opt.heartbeat = int(need(i), a); i++; break;
      case '--boot-status': opt.bootStatus = need(i); i++; break;
      case '--id-tags':
        for (const kv of need(i).split(',')) {
          const [tag, status] = kv.split('=');
          if (!tag || !['Accepted', 'Blocked', 'Expired', 'Invalid', 'ConcurrentTx'].includes(status)) usage(`--id-tags: bad ${kv}`);
          opt.idTags[tag] = status;
        }
        i++; break;
      case '--ping': opt.ping = int(need(i), a); i++; break;
      case '--call-timeout': opt.callTimeout = int(need(i), a); i++; break;
      case '--ctl-port': opt.ctlPort = int(need(i), a); i++; break;
      case '--tls-cert': opt.tlsCert = need(i); i++; break;
      case '--tls-key': opt.tlsKey = need(i); i++; break;
      case '--tls-ca': opt.tlsCa = need(i); i++; break;
      case '-h': case '--help': usage();
      default: usage(`unknown argument: ${a}`);
    }
  }
  if (opt.port == null) usage('--port is required');
  if (!opt.tlsCert !== !opt.tlsKey) usage('--tls-cert and --tls-key go together');
  if (opt.tlsCa && !opt.tlsCert) usage('--tls-ca needs --tls-cert and --tls-key');
  if (!opt.protocols.length) usage('--protocols is empty');
  if (!['Accepted', 'Pending', 'Rejected'].includes(opt.bootStatus)) usage('bad --boot-status');
  opt.path = '/' + opt.path.replace(/^\/+|\/+$/g, '');   // "/ocpp", or "/" for the root
}

let rpc;
try {
  rpc = require('ocpp-rpc');
} catch (e) {
  process.stderr.write('ocpp-csms: cannot load ocpp-rpc (source ocpp_csms_setup.sh and run ocpp_csms_deps)\n');
  process.exit(3);
}
const { RPCServer, createRPCError } = rpc;
// ws is ocpp-rpc's own dependency: resolve it from there.
const WebSocket = require(require.resolve('ws', { paths: [require('path').dirname(require.resolve('ocpp-rpc'))] }));
const standardValidators = require('ocpp-rpc/lib/standard-validators');

// --- JSONL log ----------------------------------------------------------------------------
// One write(2) per line on an O_APPEND descriptor: nothing is buffered in this process.
const logFd = opt.log ? fs.openSync(opt.log, 'a') : null;
function record(obj) {
  if (logFd === null) return;
  try { fs.writeSync(logFd, JSON.stringify({ t: Date.now(), ...obj }) + '\n'); } catch (e) { /* disk full: keep serving */ }
}

const stats = { calls_in: 0, calls_out: 0, violations: 0, late_replies: 0 };
const clients = new Map();          // identity -> newest connection (RPCServerClient or ws)
let nextTransactionId = 1;

function frameOf(text) {
  try { return { frame: JSON.parse(text) }; } catch (e) { return { raw: String(text) }; }
}

// --- upgrade checks shared by both modes ---------------------------------------------------
// Returns null when the upgrade may go on, or {status, reason, headers} to refuse it.
function checkUpgrade(req) {
  let url;
  try { url = new URL(req.url || '/', 'http://localhost'); } catch (e) { return { status: 400, reason: 'Bad request URL' }; }
  const parts = url.pathname.split('/');
  let identity;
  try { identity = decodeURIComponent(parts.pop()); } catch (e) { return { status: 400, reason: 'Bad identity encoding' }; }
  const endpoint = parts.join('/') || '/';
  const info = { identity };
  if (endpoint !== opt.path || identity === '') return { ...info, status: 404, reason: 'Not found' };
  if (opt.auth) {
    const expected = Buffer.from(`${opt.auth.user.split('{id}').join(identity)}:${opt.auth.pass}`);
    const m = /^ *[Bb][Aa][Ss][Ii][Cc] +([A-Za-z0-9+/._~-]+=*) *$/.exec(req.headers.authorization || '');
    const given = m ? Buffer.from(m[1], 'base64') : null;
    if (!given || !given.equals(expected)) {
      return { ...info, status: 401, reason: req.headers.authorization ? 'Bad credentials' : 'Credentials required',
        headers: { 'WWW-Authenticate': 'Basic realm="ocpp-csms"' } };
    }
  }
  if (!opt.noSubprotocol) {
    const offered = (req.headers['sec-websocket-protocol'] || '').split(',').map(s => s.trim()).filter(Boolean);
    if (!opt.protocols.some(p => offered.includes(p))) {
      return { ...info, status: 400, reason: `No supported subprotocol offered (want ${opt.protocols.join(',')})` };
    }
  }
  return null;
}

function refuse(socket, req, r) {
  record({ event: 'reject', charger: r.identity ?? null, status: r.status, reason: r.reason, url: req.url });
  if (socket.writable) {
    const body = r.reason;
    const headers = { Connection: 'close', 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body), ...(r.headers || {}) };
    socket.write(`HTTP/1.1 ${r.status} ${http.STATUS_CODES[r.status]}\r\n` +
      Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n') + '\r\n\r\n' + body);
  }
  socket.destroy();
}

// --- the OCPP 1.6 handlers -----------------------------------------------------------------
const now = () => new Date().toISOString();
const accepted = () => ({ status: 'Accepted' });
const tagInfo = (tag) => ({ status: opt.idTags[tag] || 'Accepted' });
const handlers = {
  BootNotification: () => ({ status: opt.bootStatus, currentTime: now(), interval: opt.heartbeat }),
  Heartbeat: () => ({ currentTime: now() }),
  Authorize: ({ params }) => ({ idTagInfo: tagInfo(params.idTag) }),
  StartTransaction: ({ params }) => ({ transactionId: nextTransactionId++, idTagInfo: tagInfo(params.idTag) }),
  StopTransaction: ({ params }) => (params && params.idTag !== undefined ? { idTagInfo: accepted() } : {}),
  MeterValues: () => ({}),
  StatusNotification: () => ({}),
  DataTransfer: () => ({ status: 'Accepted' }),
  DiagnosticsStatusNotification: () => ({}),
  FirmwareStatusNotification: () => ({}),
};

// OCPP 2.0.1 (subprotocol ocpp2.0.1): the same roles in 2.0.1 shapes.
const tokenInfo = (token) => ({ status: (token && opt.idTags[token.idToken]) || 'Accepted' });
const handlers201 = {
  BootNotification: () => ({ status: opt.bootStatus, currentTime: now(), interval: opt.heartbeat }),
  Heartbeat: () => ({ currentTime: now() }),
  StatusNotification: () => ({}),
  Authorize: ({ params }) => ({ idTokenInfo: tokenInfo(params.idToken) }),
  TransactionEvent: ({ params }) => (params && params.idToken ? { idTokenInfo: tokenInfo(params.idToken) } : {}),
  MeterValues: () => ({}),
  DataTransfer: () => ({ status: 'Accepted' }),
  NotifyReport: () => ({}),
  NotifyEvent: () => ({}),
  SecurityEventNotification: () => ({}),
  FirmwareStatusNotification: () => ({}),
  LogStatusNotification: () => ({}),
};

// "format": "date-time" is RFC 3339's date-time: a "T" and a UTC offset are required. The
// ajv-formats 2.1.1 that ocpp-rpc 2.2.1 brings accepts "2026-12-04T07:00:00" (no offset) and
// "2026-12-04 07:00:00", so the format is replaced before any schema is compiled (ajv compiles
// them on first use). --loose-datetime keeps ajv-formats' check.
const DATE_TIME = /^(\d{4})-(\d\d)-(\d\d)[Tt]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$/;
function rfc3339DateTime(s) {
  const m = DATE_TIME.exec(s);
  if (!m) return false;
  const y = +m[1], mo = +m[2], d = +m[3];
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  return mo >= 1 && mo <= 12 && d >= 1 && d <= [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1];
}
if (!opt.looseDatetime) {
  for (const std of standardValidators) std._ajv.addFormat('date-time', { type: 'string', validate: rfc3339DateTime });
}

// Strict validators that answer an action the schemas do not know with NotImplemented (as
// OCPP-J asks) instead of ocpp-rpc's ProtocolError "Schema ... is missing".
const strictModeValidators = standardValidators.map(std => ({
  subprotocol: std.subprotocol,
  validate(schemaId, params) {
    if (!std._ajv.getSchema(schemaId)) {
      const action = schemaId.replace(/^urn:/, '').replace(/\.(req|conf)$/, '');
      throw createRPCError('NotImplemented', `Unknown action '${action}'`, {});
    }
    return std.validate(schemaId, params);
  },
}));
// The error code as it goes on the wire: for ocpp1.6 ocpp-rpc renames two codes (OCPP-J 1.6
// errata section 5) when it sends a CALLERROR.
const wireCode = (protocol, code) => (protocol === 'ocpp1.6' &&
  { FormatViolation: 'FormationViolation', OccurenceConstraintViolation: 'OccurrenceConstraintViolation' }[code]) || code || null;
const validatorFor = (protocol) => strictModeValidators.find(v => v.subprotocol === protocol);

const rawWaiters = new Map();        // `${identity}\0${msgId}` -> resolve(frame)
const rawIds = new Set();            // replies to raw CALLs are not bad messages
// The ids of the CALLs sent to each charger (the newest 10000), so that a reply that comes
// after its call timed out or its connection was cut is told apart from a reply to nothing.
const sentIds = new Map();           // `${identity}\0${msgId}` -> true, oldest first

function attachCommon(identity, conn, protocol, remote, sock) {
  const prev = clients.get(identity);
  clients.set(identity, conn);
  const cert = sock && typeof sock.getPeerCertificate === 'function' ? sock.getPeerCertificate() : null;
  record({ event: 'connect', charger: identity, protocol: protocol || null, remote, replaced: prev ? true : undefined,
    tls: sock && sock.encrypted ? true : undefined, cert_cn: cert && cert.subject ? cert.subject.CN : undefined });
  return () => {
    if (clients.get(identity) === conn) clients.delete(identity);
  };
}

function onMessageFrame(identity, text, outbound) {
  const f = frameOf(text);
  record({ dir: outbound ? 'out' : 'in', charger: identity, ...f });
  const fr = f.frame;
  if (!Array.isArray(fr)) return;
  if (fr[0] === 2) { if (outbound) stats.calls_out++; else stats.calls_in++; }
  if (outbound && fr[0] === 2) {
    sentIds.set(`${identity}\0${fr[1]}`, true);
    if (sentIds.size > 10000) sentIds.delete(sentIds.keys().next().value);
  }
  if (!outbound && (fr[0] === 3 || fr[0] === 4)) {
    const key = `${identity}\0${fr[1]}`;
    const w = rawWaiters.get(key);
    if (w) { rawWaiters.delete(key); w(fr); }
  }
}

function startRpcServer() {
  const server = new RPCServer({
    protocols: opt.protocols,
    strictMode: true,
    strictModeValidators,
    pingIntervalMs: opt.ping > 0 ? opt.ping * 1000 : 0,
    callTimeoutMs: opt.callTimeout * 1000,
  });
  server.on('error', e => process.stderr.write(`ocpp-csms: server error: ${e.message}\n`));
  server.on('upgradeAborted', ({ error, identity }) =>
    record({ event: 'reject', charger: identity ?? null, status: error?.code ?? 500, reason: error?.message ?? String(error) }));
  server.on('client', (client) => {
    const identity = client.identity;
    const detach = attachCommon(identity, client, client.protocol, client.handshake?.remoteAddress,
      client.handshake?.request?.socket);
    client.on('message', ({ message, outbound }) => onMessageFrame(identity, message, outbound));
    client.on('strictValidationFailure', ev => {
      stats.violations++;
      record({ event: 'violation', charger: identity, dir: ev.outbound ? 'out' : 'in', method: ev.method ?? null,
        kind: 'schema', type: ev.isCall ? 'call' : 'result', messageId: ev.messageId ?? null,
        code: wireCode(client.protocol, ev.error?.rpcErrorCode), error: ev.error?.message ?? String(ev.error) });
    });
    client.on('badMessage', ({ buffer, error }) => {
      const f = frameOf(buffer);
      const id = Array.isArray(f.frame) ? `${identity}\0${f.frame[1]}` : null;
      if (id && rawIds.has(id)) { rawIds.delete(id); return; }   // the answer to a /send CALL
      if (id && sentIds.has(id) && (f.frame[0] === 3 || f.frame[0] === 4)) {
        // A reply to a CALL of ours that had timed out (or whose connection was cut).
        stats.late_replies++;
        record({ event: 'late_reply', charger: identity, messageId: f.frame[1] });
        return;
      }
      stats.violations++;
      record({ event: 'violation', charger: identity, dir: 'in', method: null, kind: 'bad_message', type: null,
        messageId: Array.isArray(f.frame) && typeof f.frame[1] === 'string' ? f.frame[1] : null,
        code: error?.rpcErrorCode ?? null, error: error?.message ?? String(error) });
    });
    client.on('close', ({ code, reason }) => {
      detach();
      record({ event: 'disconnect', charger: identity, code, reason: reason ? String(reason) : '' });
    });
    for (const [method, fn] of Object.entries(client.protocol === 'ocpp2.0.1' ? handlers201 : handlers)) client.handle(method, fn);
    client.handle(({ method }) => { throw createRPCError('NotImplemented', `${method} is not implemented by this CSMS`); });
  });

  const httpServer = makeHttpServer();
  httpServer.on('upgrade', (req, socket, head) => {
    const r = checkUpgrade(req);
    if (r) return refuse(socket, req, r);
    server.handleUpgrade(req, socket, head);
  });
  return { httpServer, close: () => server.close({ code: 1001, reason: 'CSMS shutting down' }).catch(() => {}) };
}

// The listener: plain HTTP, or HTTPS (wss://) with --tls-cert, requiring a client certificate
// with --tls-ca.
function makeHttpServer() {
  const notFound = (req, res) => { res.statusCode = 404; res.end(); };
  if (!opt.tlsCert) return http.createServer(notFound);
  const o = { cert: fs.readFileSync(opt.tlsCert), key: fs.readFileSync(opt.tlsKey) };
  if (opt.tlsCa) Object.assign(o, { ca: fs.readFileSync(opt.tlsCa), requestCert: true, rejectUnauthorized: true });
  return require('https').createServer(o, notFound);
}

// A misbehaving server: completes the upgrade without choosing any subprotocol.
function startBareServer() {
  const wss = new WebSocket.WebSocketServer({ noServer: true, handleProtocols: () => false });
  const httpServer = makeHttpServer();
  httpServer.on('upgrade', (req, socket, head) => {
    const r = checkUpgrade(req);
    if (r) return refuse(socket, req, r);
    const identity = decodeURIComponent(new URL(req.url, 'http://localhost').pathname.split('/').pop());
    wss.handleUpgrade(req, socket, head, (ws) => {
      const detach = attachCommon(identity, ws, ws.protocol, req.socket.remoteAddress, req.socket);
      ws.on('message', (data) => onMessageFrame(identity, data.toString('utf8'), false));
      ws.on('error', () => {});
      ws.on('close', (code, reason) => {
        detach();
        record({ event: 'disconnect', charger: identity, code, reason: reason ? reason.toString() : '' });
      });
    });
  });
  return { httpServer, close: async () => { for (const ws of wss.clients) ws.terminate(); } };
}

// --- control endpoint ---------------------------------------------------------------------
function sendJson(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => {
      const s = Buffer.concat(chunks).toString('utf8');
      if (!s.trim()) return resolve({});
      try { resolve(JSON.parse(s)); } catch (e) { reject(e); }
    });
    req.on('error', reject);
  });
}

const isRpcClient = (c) => typeof c.call === 'function';
const errJson = (e) => ({ error: e?.message || String(e), code: e?.rpcErrorCode ??
  (e instanceof rpc.TimeoutError ? 'Timeout' : e?.name === 'AbortError' ? 'Disconnected' : null),
  details: e?.details && Object.keys(e.details).length ? e.details : undefined });

async function ctl(req, res) {
  const url = new URL(req.url, 'http://localhost');
  if (req.method === 'GET' && url.pathname === '/stats') {
    return sendJson(res, 200, { connected: clients.size, ...stats, chargers: [...clients.keys()].sort() });
  }
  if (req.method !== 'POST' || !['/call', '/send', '/drop', '/close'].includes(url.pathname)) {
    return sendJson(res, 404, { error: `no such endpoint: ${req.method} ${url.pathname}` });
  }
  let body;
  try { body = await readBody(req); } catch (e) { return sendJson(res, 400, { error: `bad JSON body: ${e.message}` }); }
  if (typeof body.charger !== 'string') return sendJson(res, 400, { error: '"charger" is required' });
  const conn = clients.get(body.charger);
  if (!conn) return sendJson(res, 404, { error: `${body.charger} is not connected` });

  if (url.pathname === '/drop') {
    if (isRpcClient(conn)) conn.close({ force: true }); else conn.terminate();
    return sendJson(res, 200, {});
  }
  if (url.pathname === '/close') {   // a close handshake started by the server
    const code = Number.isInteger(body.code) ? body.code : 1001;
    if (isRpcClient(conn)) conn.close({ code, reason: 'closed by the test' }); else conn.close(code, 'closed by the test');
    return sendJson(res, 200, {});
  }

  if (url.pathname === '/call') {
    if (typeof body.method !== 'string') return sendJson(res, 400, { error: '"method" is required' });
    if (!isRpcClient(conn)) return sendJson(res, 502, { error: 'no OCPP session (--no-subprotocol mode)' });
    const params = body.params ?? {};
    // Check here so that a bad request from the test is not sent and not counted as a violation.
    try { validatorFor(conn.protocol).validate(`urn:${body.method}.req`, params); } catch (e) {
      return sendJson(res, 400, { error: `params fail the ${conn.protocol} schema: ${e.message}`, code: e.rpcErrorCode ?? null });
    }
    const timeout = Number.isFinite(body.timeout_ms) ? body.timeout_ms : opt.callTimeout * 1000;
    try {
      const result = await conn.call(body.method, params, { callTimeoutMs: timeout });
      return sendJson(res, 200, result ?? {});
    } catch (e) {
      return sendJson(res, 502, errJson(e));
    }
  }

  // /send: a raw frame, no validation.
  let text;
  if (typeof body.text === 'string') text = body.text;
  else if (body.frame !== undefined) text = JSON.stringify(body.frame);
  else return sendJson(res, 400, { error: '"frame" or "text" is required' });
  const fr = frameOf(text).frame;
  const isCall = Array.isArray(fr) && fr[0] === 2 && typeof fr[1] === 'string';
  let waiter = null;
  if (isCall) {
    const key = `${body.charger}\0${fr[1]}`;
    rawIds.add(key);
    waiter = new Promise(resolve => rawWaiters.set(key, resolve));
  }
  try {
    if (isRpcClient(conn)) conn.sendRaw(text); else { conn.send(text); onMessageFrame(body.charger, text, true); }
  } catch (e) {
    return sendJson(res, 502, { error: e.message });
  }
  if (!waiter) return sendJson(res, 202, {});
  const timeout = Number.isFinite(body.timeout_ms) ? body.timeout_ms : opt.callTimeout * 1000;
  let timer;
  const r = await Promise.race([waiter, new Promise(resolve => { timer = setTimeout(() => resolve(null), timeout); })]);
  clearTimeout(timer);
  if (r) return sendJson(res, 200, { response: r });
  rawWaiters.delete(`${body.charger}\0${fr[1]}`);
  rawIds.delete(`${body.charger}\0${fr[1]}`);
  return sendJson(res, 504, { error: 'timeout' });
}

// --- start --------------------------------------------------------------------------------
let srv;
try {
  srv = opt.noSubprotocol ? startBareServer() : startRpcServer();
} catch (e) {
  process.stderr.write(`ocpp-csms: ${e.message}\n`);   // e.g. no validator for a --protocols entry
  process.exit(2);
}
let ctlServer = null;

srv.httpServer.on('error', (e) => { process.stderr.write(`ocpp-csms: ${e.message}\n`); process.exit(1); });
srv.httpServer.listen(opt.port, opt.host, () => {
  const start = () => {
    const shown = opt.host.includes(':') ? `[${opt.host}]` : opt.host;
    process.stdout.write(`ocpp-csms: ready on ${opt.tlsCert ? 'wss' : 'ws'}://${shown}:${opt.port}${opt.path}` +
      `${opt.noSubprotocol ? ' (no subprotocol)' : ''}\n`);
  };
  if (opt.ctlPort == null) return start();
  ctlServer = http.createServer((req, res) => ctl(req, res).catch(e => sendJson(res, 500, { error: e.message })));
  ctlServer.on('error', (e) => { process.stderr.write(`ocpp-csms: ctl: ${e.message}\n`); process.exit(1); });
  ctlServer.listen(opt.ctlPort, '127.0.0.1', start);
});

let stopping = false;
function shutdown() {
  if (stopping) return;
  stopping = true;
  const done = () => {
    if (logFd !== null) { try { fs.closeSync(logFd); } catch (e) { /* closed */ } }
    process.exit(0);
  };
  setTimeout(done, 1000).unref();
  if (ctlServer) ctlServer.close();
  srv.httpServer.close();
  Promise.resolve(srv.close()).then(done, done);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
