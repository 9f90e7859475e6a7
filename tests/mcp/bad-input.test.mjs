// Bad input on /mcp (issue 3 "Tests that must exist: Bad input"): malformed JSON-RPC, unknown methods,
// unknown tools, wrong argument types (for every property of every tool in tools/list), unknown and
// missing arguments, huge payloads, garbage batches, empty bodies, wrong content types. Each must be a
// proper JSON-RPC error (or an isError tool result) or a 4xx — never a 5xx, never a dropped connection —
// and the server must still answer /healthz afterwards.
// Then a fuzz pass: a seeded generator mutates valid JSON-RPC bodies (random types in params/arguments,
// truncations, byte flips, deep nesting, huge strings, odd unicode, odd headers) and sends them to /mcp.
// Usage: MCP_BASE=http://127.0.0.1:PORT MCP_ADMIN_PASSWORD=… [MCP_SERVER_PID=pid]
//        [MCP_FUZZ_SEED=n] [MCP_FUZZ_N=2000] [MCP_FUZZ_CONCURRENCY=4] node tests/mcp/bad-input.test.mjs
// Writes: the fuzz pass uses a key of its own project (provisioning tools left out, so it never starts a
// Terraform run) and an auditor's PAT (which cannot change anything), plus unknown credentials.
import { Suite, Rest, assert, env, deadline, raw, rpc, tool, MCP_HEADERS, hex32, short } from './lib.mjs';

const S = 'mcp-bad-input';
const base = env('MCP_BASE', 'see the header of this file');
const adminPw = env('MCP_ADMIN_PASSWORD', 'see the header of this file');
const serverPid = process.env.MCP_SERVER_PID ? Number(process.env.MCP_SERVER_PID) : null;
const SEED = process.env.MCP_FUZZ_SEED ? Number(process.env.MCP_FUZZ_SEED) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
const N = Number(process.env.MCP_FUZZ_N ?? 2000);
const CONC = Number(process.env.MCP_FUZZ_CONCURRENCY ?? 4);
deadline(S, 420);
const suite = new Suite(S);
const tag = hex32().slice(0, 6);
const URL_ = `${base}/mcp`;

const admin = await Rest.login(base, 'admin', adminPw);
const P = await admin.project(`Bad input ${tag}`, `owner-${tag}@corp.example`, `mgr-${tag}@corp.example`);
const auditor = await admin.userWithPat(`fuzzaud-${tag}`, 'auditor');
const KEY = P.key;

const alive = async () => {
  if (serverPid) {
    try { process.kill(serverPid, 0); } catch { throw new Error(`asgard (pid ${serverPid}) is gone`); }
  }
  const r = await raw(`${base}/healthz`, { method: 'GET', timeoutMs: 5000 });
  assert.equal(r.status, 200, `/healthz -> ${r.status} ${r.error?.message ?? ''}`);
};

/**
 * The verdict on one response: no transport failure, no 5xx; a 200 to a request carries a JSON-RPC
 * message with `result` or a well-formed `error`. `wantError`: a 200 must be an error (JSON-RPC error,
 * or a tools/call result with isError).
 */
function verdict(r, { wantError = false, what = '' } = {}) {
  assert.ok(r.status !== 0, `${what}: no HTTP response (${r.error?.code ?? ''} ${r.error?.message ?? ''})`);
  assert.ok(r.status < 500, `${what}: HTTP ${r.status}: ${short(r.text)}`);
  if (r.status >= 400) return 'http';
  if (r.status === 202) { assert.ok(!wantError, `${what}: 202 Accepted (want an error)`); return 'accepted'; }
  assert.equal(r.status, 200, `${what}: HTTP ${r.status}`);
  const m = r.json;
  assert.ok(m && typeof m === 'object', `${what}: 200 without a JSON body: ${short(r.text)}`);
  const msgs = Array.isArray(m) ? m : [m];
  for (const x of msgs) {
    assert.equal(x.jsonrpc, '2.0', `${what}: not a JSON-RPC message: ${short(r.text)}`);
    if (x.error) {
      assert.ok(Number.isInteger(x.error.code), `${what}: error.code not an integer: ${short(r.text)}`);
      assert.equal(typeof x.error.message, 'string', `${what}: error.message not a string`);
      // JSON-RPC "Internal error" is a 500 in disguise.
      assert.notEqual(x.error.code, -32603, `${what}: JSON-RPC internal error: ${short(r.text)}`);
    } else {
      assert.ok('result' in x, `${what}: neither result nor error: ${short(r.text)}`);
      if (wantError) assert.equal(x.result?.isError, true, `${what}: succeeded (want an error): ${short(r.text)}`);
      if (x.result?.isError) {
        assert.notEqual(x.result.structuredContent?.code, 'internal_error', `${what}: tool failed with internal_error: ${short(r.text)}`);
      }
    }
  }
  return 'jsonrpc';
}

const send = (body, headers = {}, method = 'POST', token = KEY) => {
  const h = { ...MCP_HEADERS, ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  for (const [k, v] of Object.entries(h)) if (v === undefined) delete h[k];
  return raw(URL_, { method, headers: h, body, timeoutMs: 20000 });
};

// ---------------------------------------------------------------- fixed cases
const twoMiB = 2 * 1024 * 1024;
const bigCall = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'seed_plan', arguments: { task: 'x'.repeat(twoMiB) } } });
const deep = (n) => `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"seed_plan","arguments":{"task":${'['.repeat(n)}${']'.repeat(n)}}}}`;
const fixed = [
  // [name, body, headers, wantError]
  ['malformed JSON (truncated)', '{"jsonrpc":"2.0","id":1,', {}, true],
  ['malformed JSON (trailing garbage)', '{"jsonrpc":"2.0","id":1,"method":"tools/list"} xyz', {}, true],
  ['not JSON at all', 'hello world', {}, true],
  ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), {}, true],
  ['NUL bytes', '\u0000\u0000\u0000', {}, true],
  ['JSON null', 'null', {}, true],
  ['JSON number', '42', {}, true],
  ['JSON string', '"tools/list"', {}, true],
  ['empty object', '{}', {}, true],
  ['empty body', '', {}, true],
  ['whitespace body', '   \n\t ', {}, true],
  ['jsonrpc 1.0', { jsonrpc: '1.0', id: 1, method: 'tools/list' }, {}, true],
  ['no jsonrpc member', { id: 1, method: 'tools/list' }, {}, true],
  ['no method', { jsonrpc: '2.0', id: 1 }, {}, true],
  ['method is a number', { jsonrpc: '2.0', id: 1, method: 42 }, {}, true],
  ['method is null', { jsonrpc: '2.0', id: 1, method: null }, {}, true],
  ['id is an object', { jsonrpc: '2.0', id: { a: 1 }, method: 'tools/list' }, {}, true],
  ['id is an array', { jsonrpc: '2.0', id: [1], method: 'tools/list' }, {}, true],
  ['unknown method', { jsonrpc: '2.0', id: 1, method: 'tools/destroy_everything' }, {}, true],
  ['unknown method with odd characters', { jsonrpc: '2.0', id: 1, method: '../../etc/passwd\u0000' }, {}, true],
  ['empty method', { jsonrpc: '2.0', id: 1, method: '' }, {}, true],
  ['params is a string', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: 'seed_plan' }, {}, true],
  ['params is an array', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: ['seed_plan'] }, {}, true],
  ['params is null', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: null }, {}, true],
  ['tools/call without params', { jsonrpc: '2.0', id: 1, method: 'tools/call' }, {}, true],
  ['tools/call without a name', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { arguments: {} } }, {}, true],
  ['tools/call name is a number', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 7, arguments: {} } }, {}, true],
  ['unknown tool', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'drop_database', arguments: {} } }, {}, true],
  ['unknown tool with a 10 KiB name', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x'.repeat(10240), arguments: {} } }, {}, true],
  ['arguments is an array', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'seed_plan', arguments: ['rust'] } }, {}, true],
  ['arguments is a string', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'seed_plan', arguments: 'rust' } }, {}, true],
  ['arguments is a number', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: 1 } }, {}, true],
  ['seed_plan languages: "rust"', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'seed_plan', arguments: { languages: 'rust' } } }, {}, true],
  ['seed_plan languages: [1, null]', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'seed_plan', arguments: { languages: [1, null] } } }, {}, true],
  ['seed_plan tier: "galactic"', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'seed_plan', arguments: { tier: 'galactic' } } }, {}, true],
  ['seed_get unknown id with traversal', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'seed_get', arguments: { id: '../../../../etc/passwd' } } }, {}, true],
  ['get_project project_id: 12', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_project', arguments: { project_id: 12 } } }, {}, true],
  ['update_project budget_usd: "lots"', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'update_project', arguments: { budget_usd: 'lots' } } }, {}, true],
  ['update_project budget_usd: -1', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'update_project', arguments: { budget_usd: -1 } } }, {}, true],
  ['update_project budget_usd: 1e308', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'update_project', arguments: { budget_usd: 1e308 } } }, {}, true],
  ['update_project budget_usd: 1e999 (overflow literal)', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"update_project","arguments":{"budget_usd":1e999}}}', {}, true],
  ['update_project evidence: "x"', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'update_project', arguments: { evidence: 'x' } } }, {}, true],
  ['update_project name: 5 KiB', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'update_project', arguments: { name: 'n'.repeat(5000) } } }, {}, true],
  ['get_secret secret_ref: garbage', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_secret', arguments: { secret_ref: 'asgard://secrets/../../x' } } }, {}, true],
  ['unknown argument key', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: { sudo: true } } }, {}, true],
  ['deeply nested arguments (depth 100000)', deep(100000), {}, true],
  ['deeply nested arguments (depth 120)', deep(120), {}, true],
  ['2 MiB payload', bigCall, {}, true],
  ['2 MiB payload, chunked (no content-length)', bigCall, { 'transfer-encoding': 'chunked', 'content-length': undefined }, true],
  ['batch of garbage', '[1, "x", null, {}, [], true]', {}, true],
  ['empty batch', '[]', {}, true],
  ['batch of unknown methods', [{ jsonrpc: '2.0', id: 1, method: 'nope' }, { jsonrpc: '2.0', id: 2, method: 'nope2' }], {}, false],
  ['batch of 1000 tools/list', Array.from({ length: 1000 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'tools/list' })), {}, false],
  ['a JSON-RPC response from the client', { jsonrpc: '2.0', id: 5, result: {} }, {}, true],
  ['a JSON-RPC error from the client', { jsonrpc: '2.0', id: 5, error: { code: 1, message: 'x' } }, {}, true],
  ['wrong content-type text/plain', { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { 'content-type': 'text/plain' }, true],
  ['wrong content-type form', 'jsonrpc=2.0&id=1&method=tools/list', { 'content-type': 'application/x-www-form-urlencoded' }, true],
  ['no content-type', { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { 'content-type': undefined }, true],
  ['content-type with a charset parameter', { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { 'content-type': 'application/json; charset=utf-8' }, false],
  ['no Accept header', { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { accept: undefined }, true],
  ['Accept text/html only', { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { accept: 'text/html' }, true],
  ['garbage mcp-protocol-version', { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { 'mcp-protocol-version': '1999-01-01\u00e9' }, false],
  ['unknown mcp-session-id', { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { 'mcp-session-id': 'not-a-session' }, false],
  ['initialize with a bogus protocolVersion', { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: 'banana', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }, {}, false],
  ['initialize with params of the wrong types', { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: 7, capabilities: 'all', clientInfo: [] } }, {}, true],
];
for (const [name, body, headers, wantError] of fixed) {
  await suite.test(`${name} -> JSON-RPC error or 4xx`, async () => {
    const r = await send(body, headers);
    const kind = verdict(r, { wantError, what: name });
    if (process.env.DEBUG) console.log(`  ${name}: ${r.status} ${kind} ${short(r.text, 160)}`);
  });
}
await suite.test('odd methods on /mcp (PUT, PATCH, GET with a body) -> 4xx', async () => {
  for (const m of ['PUT', 'PATCH', 'OPTIONS', 'HEAD']) verdict(await send('{}', {}, m), { what: m });
});
await suite.test('unknown notification -> accepted or 4xx, never 5xx', async () => {
  verdict(await send({ jsonrpc: '2.0', method: 'notifications/bogus', params: { x: 1 } }), { what: 'notification' });
});
await suite.test('the server answers /healthz after the fixed cases', alive);

// ------------------------------------------ schema-driven: every tool, every property, wrong types
const list = await rpc(base, KEY, 'tools/list', {});
const tools = list.json?.result?.tools ?? [];
await suite.test('tools/list for the schema-driven cases', async () => {
  assert.ok(tools.length >= 15, `only ${tools.length} tools`);
});
const typeOf = (v) => (v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v);
const SAMPLES = [null, true, 0, 1.5, -7, 'str', '', [], ['a'], {}, { a: 1 }];
function wrongValues(spec) {
  const t = spec?.type;
  if (!t) return [];
  const allowed = new Set(Array.isArray(t) ? t : [t]);
  return SAMPLES.filter((v) => {
    const k = typeOf(v);
    if (allowed.has(k)) return false;
    if (k === 'integer' && allowed.has('number')) return false;
    return true;
  });
}
for (const t of tools) {
  const props = t.inputSchema?.properties ?? {};
  await suite.test(`${t.name}: wrong types, unknown and missing arguments -> invalid_argument`, async () => {
    let n = 0;
    for (const [prop, spec] of Object.entries(props)) {
      for (const v of wrongValues(spec)) {
        const r = await tool(base, KEY, t.name, { [prop]: v });
        assert.ok(r.isError, `${t.name} {${prop}: ${JSON.stringify(v)}} succeeded: ${short(r.text)}`);
        assert.equal(r.sc?.code, 'invalid_argument', `${t.name} {${prop}: ${JSON.stringify(v)}}: ${short(r.text)}`);
        assert.equal(r.sc?.field, prop, `${t.name} {${prop}: ${JSON.stringify(v)}}: ${short(r.text)}`);
        n++;
      }
    }
    for (const bad of ['zzz_unknown', '__proto__', 'constructor', '', 'project_id ']) {
      const r = await tool(base, KEY, t.name, { [bad]: 1 });
      assert.ok(r.isError && r.sc?.code === 'invalid_argument', `${t.name} with unknown argument ${JSON.stringify(bad)}: ${short(r.text)}`);
      assert.equal(r.sc?.field, bad, `${t.name} with unknown argument ${JSON.stringify(bad)}: ${short(r.text)}`);
      n++;
    }
    // Each required argument missing in turn, the others present with values of their type.
    const required = t.inputSchema?.required ?? [];
    for (const req of required) {
      const args = Object.fromEntries(required.filter((k) => k !== req).map((k) => [k, 'placeholder']));
      const r = await tool(base, KEY, t.name, args);
      assert.ok(r.isError && r.sc?.code === 'invalid_argument', `${t.name} without required ${req}: ${short(r.text)}`);
      assert.equal(r.sc?.field, req, `${t.name} without required ${req}: ${short(r.text)}`);
      n++;
    }
    if (process.env.DEBUG) console.log(`  ${t.name}: ${n} cases`);
  });
}
await suite.test('the server answers /healthz after the schema-driven cases', alive);

// ---------------------------------------------------------------- fuzz pass
// mulberry32: a tiny seeded PRNG, so a failing run can be replayed with MCP_FUZZ_SEED.
function mulberry32(a) {
  return () => {
    a |= 0; a = (a + 0x6D2B79F5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = mulberry32(SEED);
const int = (n) => Math.floor(rnd() * n);
const pick = (a) => a[int(a.length)];
const chance = (p) => rnd() < p;
const rhex = (n) => Array.from({ length: n }, () => '0123456789abcdef'[int(16)]).join('');

const WRITE_TOOLS = new Set(['request_resource', 'deprovision_resource']);
const toolNames = tools.map((t) => t.name);
const keyToolNames = toolNames.filter((n) => !WRITE_TOOLS.has(n));
const UNICODE = ['é', 'ß', '日本語', '🦀', '👩‍👩‍👧', '\u202e', '\u200b', '\ufeff', '\u0000', '\ud800', '\udfff', '\uffff', '\\', '"', '\n', '𝕏', 'İ', 'ﬀ'];
function randString() {
  switch (int(6)) {
    case 0: return '';
    case 1: return pick(toolNames.concat(['proj-2026-0001', P.id, 'asgard://secrets/x/y/z', 'demo-token', 'rust', 'strict']));
    case 2: return Array.from({ length: 1 + int(20) }, () => pick(UNICODE)).join('');
    case 3: return 'a'.repeat(int(5000));
    case 4: return String.fromCharCode(...Array.from({ length: int(40) }, () => int(0x2ff)));
    default: return rhex(1 + int(16));
  }
}
function randNumber() {
  return pick([0, -0, 1, -1, 0.5, 1e308, -1e308, 2 ** 53 + 1, -(2 ** 63), 2 ** 64, Number.MIN_VALUE, int(1e6), -int(1e6)]);
}
function randValue(depth = 0) {
  const k = int(depth > 3 ? 4 : 7);
  switch (k) {
    case 0: return null;
    case 1: return chance(0.5);
    case 2: return randNumber();
    case 3: return randString();
    case 4: return Array.from({ length: int(4) }, () => randValue(depth + 1));
    default: {
      const o = {};
      for (let i = 0; i < int(4); i++) o[chance(0.5) ? randString().slice(0, 20) : pick(['project_id', 'name', 'languages', 'task', 'tier', 'evidence', 'id', 'resource', 'secret_ref', 'request_id', 'service', 'spec'])] = randValue(depth + 1);
      return o;
    }
  }
}
function validArgs(t) {
  const a = {};
  for (const [p, spec] of Object.entries(t.inputSchema?.properties ?? {})) {
    if (!chance(0.6) && !(t.inputSchema?.required ?? []).includes(p)) continue;
    const ty = Array.isArray(spec.type) ? spec.type[0] : spec.type;
    a[p] = spec.enum ? pick(spec.enum) : ty === 'array' ? ['rust', 'python'].slice(0, int(3))
      : ty === 'number' || ty === 'integer' ? int(100) : ty === 'boolean' ? chance(0.5) : ty === 'object' ? {} : randString().slice(0, 60);
  }
  if (a.project_id !== undefined && chance(0.7)) a.project_id = P.id;
  return a;
}
function baseMessage(names) {
  const id = chance(0.85) ? int(1e6) : pick([0, -1, 'abc', 2 ** 53, 1.5, '', 'é🦀']);
  switch (int(6)) {
    case 0: return { jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion: pick(['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05']), capabilities: {}, clientInfo: { name: 'fuzz', version: '0' } } };
    case 1: return { jsonrpc: '2.0', id, method: pick(['tools/list', 'ping', 'resources/list', 'prompts/list', 'completion/complete', 'logging/setLevel']), params: {} };
    case 2: return { jsonrpc: '2.0', method: pick(['notifications/initialized', 'notifications/cancelled', 'notifications/progress']), params: { requestId: 1 } };
    default: {
      const name = pick(names);
      const t = tools.find((x) => x.name === name);
      return { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: validArgs(t) } };
    }
  }
}
// All paths (as arrays of keys) into a JSON value.
function paths(v, pre = [], out = []) {
  out.push(pre);
  if (v && typeof v === 'object') for (const k of Object.keys(v)) paths(v[k], pre.concat(k), out);
  return out;
}
function mutateTree(msg) {
  const m = structuredClone(msg);
  for (let i = 0, n = 1 + int(3); i < n; i++) {
    const all = paths(m).filter((p) => p.length > 0);
    // Mostly inside params/arguments (what the tools see); sometimes the envelope (jsonrpc, id, method).
    const inner = all.filter((p) => p[0] === 'params');
    const ps = inner.length && chance(0.85) ? inner : all;
    if (!ps.length) break;
    const p = pick(ps);
    const parent = p.slice(0, -1).reduce((o, k) => o[k], m);
    const key = p[p.length - 1];
    if (!parent || typeof parent !== 'object') continue;
    switch (int(5)) {
      case 0: delete parent[key]; break;
      case 1: parent[key] = randValue(); break;
      case 2: parent[randString().slice(0, 30) || 'k'] = randValue(); break;
      case 3: parent[key] = [parent[key]]; break;
      default: parent[key] = JSON.parse(JSON.stringify(randValue()) ?? 'null');
    }
  }
  return m;
}
function nest(depth, inner) { return '['.repeat(depth) + inner + ']'.repeat(depth); }
function mutateBytes(s) {
  let b = Buffer.from(s, 'utf8');
  switch (int(8)) {
    case 0: return b.subarray(0, int(b.length + 1)); // truncation
    case 1: { const i = int(b.length + 1); return Buffer.concat([b.subarray(0, i), Buffer.from(Array.from({ length: 1 + int(8) }, () => int(256))), b.subarray(i)]); }
    case 2: { b = Buffer.from(b); for (let i = 0; i < 1 + int(4); i++) if (b.length) b[int(b.length)] ^= 1 << int(8); return b; }
    case 3: { const i = int(b.length), j = i + int(b.length - i + 1); return Buffer.concat([b.subarray(0, j), b.subarray(i, j), b.subarray(j)]); }
    case 4: return Buffer.from(`[${s},${s}]`); // batch
    case 5: return Buffer.from(s.replace(/"arguments":/, `"arguments":${nest(1 + int(3000), '')},"x":`));
    case 6: return Buffer.from('\ufeff' + s); // BOM
    default: return Buffer.from(s.replace(/"(task|name|id|project_id|secret_ref)":"[^"]*"/, (m0, k) => `"${k}":"${'\\ud83e'.repeat(int(3))}${'€'.repeat(int(300000))}"`));
  }
}
function randHeaders() {
  const h = {};
  if (chance(0.03)) h.accept = pick([undefined, 'text/event-stream', '*/*', 'application/json']);
  if (chance(0.03)) h['content-type'] = pick([undefined, 'text/plain', 'application/json;charset=latin1', 'application/jsonx', '']);
  if (chance(0.05)) h['mcp-protocol-version'] = pick(['2025-11-25', '2024-11-05', 'x', '']);
  if (chance(0.05)) h['mcp-session-id'] = pick(['', 'x', rhex(64), 'a'.repeat(4000)]);
  if (chance(0.02)) h['last-event-id'] = randString().replace(/[^\x20-\x7e]/g, '');
  return h;
}
function fuzzCase() {
  const cred = rnd();
  const token = cred < 0.8 ? KEY : cred < 0.95 ? auditor.pat : pick([`asg_${rhex(64)}`, `asg_pat_${rhex(64)}`, 'garbage', '']);
  const names = token === KEY ? keyToolNames : toolNames;
  let msg = baseMessage(names);
  if (chance(0.75)) msg = mutateTree(msg);
  // Never let a mutation turn the key's call into a provisioning write (it would start Terraform runs).
  if (token === KEY && msg?.params && WRITE_TOOLS.has(msg.params.name)) msg.params.name = 'whoami';
  let body = Buffer.from(JSON.stringify(msg) ?? 'null');
  if (chance(0.25)) body = mutateBytes(body.toString('utf8'));
  if (token === KEY && /request_resource|deprovision_resource/.test(body.toString('latin1'))) body = Buffer.from('{"jsonrpc":"2.0","id":1,"method":"ping"}');
  if (chance(0.01)) body = Buffer.from(nest(10000 + int(100000), '1'));
  if (chance(0.005)) body = Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"seed_plan","arguments":{"task":"'), Buffer.alloc(1024 * 1024 + int(65536), 'a'), Buffer.from('"}}}')]);
  const method = chance(0.02) ? pick(['GET', 'DELETE', 'PUT']) : 'POST';
  return { token, body, headers: randHeaders(), method };
}

await suite.test(`fuzz: ${N} mutated bodies (seed ${SEED}) -> no 5xx, no dropped connection, server up`, async () => {
  const failures = [];
  const stats = new Map();
  let i = 0;
  let done = 0;
  const cases = Array.from({ length: N }, fuzzCase); // generated up front: the sequence depends on the seed only
  async function worker() {
    while (i < cases.length) {
      const idx = i++;
      const c = cases[idx];
      const h = { ...MCP_HEADERS, ...c.headers };
      if (c.token) h.authorization = `Bearer ${c.token}`;
      for (const [k, v] of Object.entries(h)) if (v === undefined) delete h[k];
      const r = await raw(URL_, { method: c.method, headers: h, body: c.method === 'GET' ? undefined : c.body, timeoutMs: 20000 });
      const key = r.status === 0 ? `err:${r.error?.code ?? r.error?.message}` : String(r.status);
      stats.set(key, (stats.get(key) ?? 0) + 1);
      try {
        verdict(r, { what: `case #${idx}` });
      } catch (e) {
        failures.push(`${e.message} <- ${c.method} ${short(c.body.toString('utf8'), 200)}`);
      }
      if (++done % 500 === 0) {
        try { await alive(); } catch (e) { failures.push(`after ${done} cases: ${e.message}`); }
      }
    }
  }
  await Promise.all(Array.from({ length: CONC }, worker));
  console.log(`  fuzz seed ${SEED}: ${N} cases, responses ${[...stats].sort().map(([k, v]) => `${k}×${v}`).join(' ')}`);
  try { await alive(); } catch (e) { failures.push(`at the end: ${e.message}`); }
  if (failures.length) {
    throw new Error(`${failures.length} bad responses (replay with MCP_FUZZ_SEED=${SEED} MCP_FUZZ_N=${N}):\n    ${failures.slice(0, 10).join('\n    ')}`);
  }
});

suite.done();
