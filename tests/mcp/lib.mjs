// Shared helpers for the MCP test scripts (Node 20, no dependencies beyond node:*).
// - raw(): one HTTP request through node:http (full control over Host, Origin, Content-Type and raw bytes,
//   which fetch does not give), with a timeout; never throws on an HTTP status.
// - Rest: the admin/member REST calls the suites use to set up (login, users, PATs, projects, keys).
// - rpc()/tool(): JSON-RPC over POST /mcp (the server is stateless: every POST stands alone).
// - Suite: named checks that run to the end, printing `PASS <suite> <name>` / `FAIL <suite> <name>: why`,
//   then `<suite>: N passed, M failed`; exit status 1 when any failed.
import assert from 'node:assert/strict';
import http from 'node:http';
import { randomBytes } from 'node:crypto';

export { assert };

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

/**
 * One HTTP request. `body`: string | Buffer | object (sent as JSON) | undefined.
 * Returns {status, headers, text, json} (json is undefined when the body is not JSON).
 * Network errors (reset, refused, timeout) are returned as {status: 0, error}.
 */
export async function raw(url, opts = {}) {
  const r = await raw1(url, opts);
  // A kept-alive socket the server closed after its previous answer (e.g. a 413 sent before reading a
  // huge body) fails on write; Node's documented remedy is to retry once on a fresh connection.
  if (r.status === 0 && r.reusedSocket && ['ECONNRESET', 'EPIPE'].includes(r.error?.code)) {
    return raw1(url, { ...opts, keepAlive: false });
  }
  return r;
}

function raw1(url, { method = 'POST', headers = {}, body, timeoutMs = 15000, keepAlive = true } = {}) {
  const u = new URL(url);
  let payload;
  if (body === undefined || body === null) payload = undefined;
  else if (Buffer.isBuffer(body) || typeof body === 'string') payload = body;
  else payload = JSON.stringify(body);
  const h = { ...headers };
  const has = (name) => Object.keys(h).some((k) => k.toLowerCase() === name);
  if (payload !== undefined && !has('content-length') && !has('transfer-encoding')) {
    h['content-length'] = Buffer.byteLength(payload);
  }
  return new Promise((resolve) => {
    const req = http.request({
      host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers: h,
      agent: keepAlive ? agent : false, setHost: !has('host'),
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
      res.on('error', (e) => resolve({ status: 0, error: e, headers: {}, text: '' }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', (e) => resolve({ status: 0, error: e, headers: {}, text: '', reusedSocket: req.reusedSocket }));
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

export const MCP_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-11-25',
};

export const hex32 = () => randomBytes(32).toString('hex');
export const short = (s, n = 300) => { const t = typeof s === 'string' ? s : JSON.stringify(s); return t && t.length > n ? `${t.slice(0, n)}…` : t; };

/** A JSON-RPC request to /mcp. Returns the raw response (with .json = the JSON-RPC message when JSON). */
let nextId = 1;
export async function rpc(base, token, method, params, { headers = {}, id } = {}) {
  const msg = { jsonrpc: '2.0', id: id ?? nextId++, method };
  if (params !== undefined) msg.params = params;
  const h = { ...MCP_HEADERS, ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  return raw(`${base}/mcp`, { headers: h, body: msg });
}

/**
 * tools/call; asserts HTTP 200 and a JSON-RPC result (not a protocol error).
 * Returns {isError, sc (structuredContent), text, result}.
 */
export async function tool(base, token, name, args = {}, opts = {}) {
  const r = await rpc(base, token, 'tools/call', { name, arguments: args }, opts);
  assert.equal(r.status, 200, `tools/call ${name}: HTTP ${r.status} ${short(r.text)}`);
  assert.ok(r.json && r.json.result, `tools/call ${name}: no JSON-RPC result: ${short(r.text)}`);
  const result = r.json.result;
  const text = (result.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join(' ');
  return { isError: result.isError === true, sc: result.structuredContent, text, result };
}

/** tools/call that must succeed; returns structuredContent. */
export async function ok(base, token, name, args = {}) {
  const r = await tool(base, token, name, args);
  assert.ok(!r.isError, `${name}(${short(args, 200)}) returned isError: ${short(r.text, 400)}`);
  assert.ok(r.sc && typeof r.sc === 'object', `${name}: no structuredContent`);
  return r.sc;
}

/** tools/call that must be an isError result whose code is one of `codes`; returns the error body. */
export async function toolErr(base, token, name, args, codes) {
  const r = await tool(base, token, name, args);
  assert.ok(r.isError, `${name}(${short(args, 200)}) should fail with ${codes.join('|')} but succeeded: ${short(r.text, 300)}`);
  const body = r.sc ?? (() => { try { return JSON.parse(r.text); } catch { return {}; } })();
  assert.ok(codes.includes(body.code), `${name}(${short(args, 200)}): code ${JSON.stringify(body.code)}, want ${codes.join('|')}: ${short(r.text, 300)}`);
  assert.equal(typeof body.message, 'string', `${name}: error has no message`);
  assert.equal(typeof body.hint, 'string', `${name}: error has no hint`);
  return { ...body, text: r.text };
}

/** REST client for setup, authenticated with a session token or PAT. */
export class Rest {
  constructor(base, token) { this.base = base; this.token = token; }
  async call(method, path, body, want) {
    const headers = { 'content-type': 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const r = await raw(`${this.base}${path}`, { method, headers, body });
    if (want !== undefined) {
      const wants = Array.isArray(want) ? want : [want];
      assert.ok(wants.includes(r.status), `${method} ${path} -> ${r.status} (want ${wants.join('|')}): ${short(r.text)}`);
    }
    return r;
  }
  get(path, want = 200) { return this.call('GET', path, undefined, want).then((r) => r.json); }
  post(path, body, want = [200, 201]) { return this.call('POST', path, body, want).then((r) => r.json); }
  patch(path, body, want = 200) { return this.call('PATCH', path, body, want).then((r) => r.json); }
  del(path, want = [200, 204]) { return this.call('DELETE', path, undefined, want); }

  static async login(base, username, password) {
    const r = await raw(`${base}/api/auth/login`, { headers: { 'content-type': 'application/json' }, body: { username, password } });
    assert.equal(r.status, 200, `login ${username} -> ${r.status}: ${short(r.text)}`);
    return new Rest(base, r.json.token);
  }
  /** Create a user (admin), log in as them, mint a PAT. Returns {id, email, username, password, rest, pat, patId}. */
  async userWithPat(username, role, email = `${username}@corp.example`) {
    const password = `pw-${hex32().slice(0, 24)}`;
    const u = await this.post('/api/users', { username, email, password, role }, 201);
    const rest = await Rest.login(this.base, username, password);
    const t = await rest.post('/api/auth/tokens', { name: `${username}-agent` }, 201);
    assert.match(t.token, /^asg_pat_[0-9a-f]{64}$/, `PAT has an unexpected shape: ${t.token}`);
    return { id: u.id ?? u.user_id, email, username, password, rest, pat: t.token, patId: t.id };
  }
  /** Register a project (admin) and mint a key. Returns {id, key, keyId, name}. */
  async project(name, owner, manager, extra = {}) {
    const p = await this.post('/api/projects',
      { name, owner_email: owner, manager_email: manager, group: 'platform', budget_usd: 100, ...extra }, 201);
    const k = await this.post(`/api/projects/${p.project_id}/keys`, { name: 'agent' }, 201);
    return { id: p.project_id, key: k.key, keyId: k.key_id, name };
  }
}

/** Poll a request (through MCP, with a credential that can see it) until it leaves queued/running. */
export async function waitRequest(base, token, requestId, timeoutMs = 60000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const sc = await ok(base, token, 'get_request', { request_id: requestId });
    if (!['queued', 'running'].includes(sc.state)) return sc;
    if (Date.now() > end) throw new Error(`request ${requestId} still ${sc.state} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export class Suite {
  constructor(name) { this.name = name; this.passed = 0; this.failed = 0; this.failures = []; }
  async test(name, fn) {
    const t0 = Date.now();
    try {
      await fn();
      this.passed++;
      console.log(`PASS ${this.name} ${name} (${Date.now() - t0} ms)`);
    } catch (e) {
      this.failed++;
      this.failures.push(name);
      console.log(`FAIL ${this.name} ${name}: ${e?.message ?? e}`);
      if (process.env.DEBUG) console.error(e);
    }
  }
  done() {
    console.log(`${this.name}: ${this.passed} passed, ${this.failed} failed`);
    agent.destroy();
    process.exit(this.failed ? 1 : 0);
  }
}

/** Required env var or exit 2 with usage. */
export function env(name, usage) {
  const v = process.env[name];
  if (!v) { console.error(`missing ${name}; ${usage}`); process.exit(2); }
  return v;
}

/** A hard stop so a hung server cannot hang the suite. */
export function deadline(suite, secs) {
  setTimeout(() => { console.log(`FAIL ${suite}: timed out after ${secs} s`); process.exit(1); }, secs * 1000).unref();
}
