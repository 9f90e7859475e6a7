// Authentication and the Host/Origin guard on /mcp (SPEC §3.1, §5.1): every failure is a 401 with a JSON
// body naming what a valid credential is and where to mint one, plus `www-authenticate: Bearer`; a
// foreign Origin or Host is 403. Credentials are checked on every request (the server is stateless), so
// a key stops working the moment its project is killed, and works again after unkill.
// Usage: MCP_BASE=http://127.0.0.1:PORT MCP_ADMIN_PASSWORD=… node tests/mcp/auth.test.mjs
import { Suite, Rest, assert, env, deadline, raw, ok, MCP_HEADERS, hex32, short } from './lib.mjs';

const S = 'mcp-auth';
const base = env('MCP_BASE', 'see the header of this file');
const adminPw = env('MCP_ADMIN_PASSWORD', 'see the header of this file');
deadline(S, 120);
const suite = new Suite(S);
const tag = hex32().slice(0, 6);
const port = new URL(base).port;

const admin = await Rest.login(base, 'admin', adminPw);
const P = await admin.project(`Auth ${tag}`, `owner-${tag}@corp.example`, `mgr-${tag}@corp.example`);
const member = await admin.userWithPat(`authmem-${tag}`, 'member');

const LIST = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'auth-test', version: '0' } } };
const post = (headers, body = LIST, method = 'POST') => raw(`${base}/mcp`, { method, headers: { ...MCP_HEADERS, ...headers }, body: method === 'POST' ? body : undefined });
const bearer = (t) => ({ authorization: `Bearer ${t}` });

/** A 401 as SPEC §5.1 wants it. Returns the error message. */
function is401(r, what) {
  assert.equal(r.status, 401, `${what}: HTTP ${r.status} (want 401): ${short(r.text)}`);
  assert.match(String(r.headers['content-type']), /^application\/json/, `${what}: content-type ${r.headers['content-type']}`);
  assert.match(String(r.headers['www-authenticate'] ?? ''), /^Bearer\b/, `${what}: www-authenticate is ${JSON.stringify(r.headers['www-authenticate'])}`);
  const e = r.json?.error;
  assert.ok(e && typeof e === 'object', `${what}: body is not {"error": {...}}: ${short(r.text)}`);
  assert.equal(e.code, 'authentication_required', `${what}: code ${e.code}`);
  assert.match(e.hint ?? '', /\/api\/auth\/tokens/, `${what}: hint does not say where to mint a PAT: ${e.hint}`);
  assert.match(e.hint ?? '', /\/keys/, `${what}: hint does not say where to mint a project key: ${e.hint}`);
  assert.ok(!('jsonrpc' in r.json), `${what}: the SDK answered (auth must come first)`);
  return e.message;
}
/** A request that must get through (200 with a JSON-RPC result). */
function is200(r, what) {
  assert.equal(r.status, 200, `${what}: HTTP ${r.status}: ${short(r.text)}`);
  assert.ok(r.json?.result, `${what}: no JSON-RPC result: ${short(r.text)}`);
}

await suite.test('positive control: the key and the PAT work', async () => {
  is200(await post(bearer(P.key)), 'key');
  is200(await post(bearer(member.pat)), 'PAT');
  is200(await post({ authorization: `bearer ${P.key}` }), 'lower-case scheme');
});

const malformed = [
  ['no Authorization header', {}],
  ['Basic scheme', { authorization: `Basic ${Buffer.from(`admin:${adminPw}`).toString('base64')}` }],
  ['"Bearer" without a token', { authorization: 'Bearer' }],
  ['"Bearer " with blanks', { authorization: 'Bearer    ' }],
  ['token without a scheme', { authorization: P.key }],
  ['two tokens', { authorization: `Bearer ${P.key} ${P.key}` }],
  ['truncated key', { authorization: `Bearer ${P.key.slice(0, -1)}` }],
  ['key plus a character', { authorization: `Bearer ${P.key}0` }],
  ['upper-cased key', { authorization: `Bearer ${P.key.toUpperCase()}` }],
  ['key with non-hex body', { authorization: `Bearer asg_${'z'.repeat(64)}` }],
  ['unknown project key', bearer(`asg_${hex32()}`)],
  ['unknown PAT', bearer(`asg_pat_${hex32()}`)],
  ['unknown session-shaped token', bearer(`asg_sess_${hex32()}`)],
  ['a JWT-looking token', bearer('eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.')],
  ['16 KiB token', bearer('a'.repeat(16 * 1024))],
  ['non-ASCII byte after the key', { authorization: `Bearer ${P.key}\u00e9` }],
];
for (const [what, headers] of malformed) {
  await suite.test(`401: ${what}`, async () => { is401(await post(headers), what); });
}

await suite.test('401 on every method before the SDK (GET, DELETE, POST initialize)', async () => {
  is401(await post({}, undefined, 'GET'), 'GET');
  is401(await post({}, undefined, 'DELETE'), 'DELETE');
  is401(await post({}, INIT), 'initialize');
  is401(await post(bearer(`asg_${hex32()}`), INIT), 'initialize with an unknown key');
});

await suite.test('401: a session token (asg_sess_…) is not accepted, as Bearer or cookie', async () => {
  assert.match(admin.token, /^asg_sess_/, `login token has an unexpected shape: ${admin.token.slice(0, 12)}`);
  is401(await post(bearer(admin.token)), 'session as Bearer');
  is401(await post({ cookie: `asgard_session=${admin.token}` }), 'session cookie');
  // ...while it still works on /api (so the 401 is about the door, not a dead session).
  await admin.get('/api/auth/me');
});

await suite.test('401: revoked project key (same message as an unknown one)', async () => {
  const k = await admin.post(`/api/projects/${P.id}/keys`, { name: 'to-revoke' }, 201);
  is200(await post(bearer(k.key)), 'fresh key');
  await admin.del(`/api/projects/${P.id}/keys/${k.key_id}`);
  const m = is401(await post(bearer(k.key)), 'revoked key');
  const m2 = is401(await post(bearer(`asg_${hex32()}`)), 'unknown key');
  assert.equal(m, m2, 'a revoked key is distinguishable from an unknown one');
  is200(await post(bearer(P.key)), 'the project\'s other key');
});

await suite.test('401: revoked PAT', async () => {
  const t = await member.rest.post('/api/auth/tokens', { name: 'to-revoke' }, 201);
  is200(await post(bearer(t.token)), 'fresh PAT');
  await member.rest.del(`/api/auth/tokens/${t.id}`);
  is401(await post(bearer(t.token)), 'revoked PAT');
  is200(await post(bearer(member.pat)), 'the member\'s other PAT');
});

await suite.test('401: key of a killed project; works again after unkill', async () => {
  await admin.post(`/api/projects/${P.id}/kill`, { reason: 'mcp auth test' }, 200);
  is401(await post(bearer(P.key)), 'key of a killed project');
  is401(await post(bearer(P.key), INIT), 'initialize with the key of a killed project');
  // A PAT with authority still reads the (frozen) project.
  const sc = await ok(base, member.pat, 'whoami');
  assert.equal(sc.kind, 'user');
  await admin.post(`/api/projects/${P.id}/unkill`, {}, 200);
  is200(await post(bearer(P.key)), 'key after unkill');
  assert.equal((await ok(base, P.key, 'get_project')).project_id, P.id);
});

// Disabling a user revokes their PATs for good: re-enabling brings none back (docs/api.md).
await suite.test('401: PAT of a disabled user, and still after re-enabling', async () => {
  await admin.patch(`/api/users/${member.id}`, { active: false });
  is401(await post(bearer(member.pat)), 'PAT of a disabled user');
  await admin.patch(`/api/users/${member.id}`, { active: true });
  is401(await post(bearer(member.pat)), 'PAT after re-enabling');
});

await suite.test('401: key of a decommissioned project', async () => {
  const Q = await admin.project(`Auth decommission ${tag}`, `owner-${tag}@corp.example`, `mgr-${tag}@corp.example`);
  is200(await post(bearer(Q.key)), 'key before decommission');
  await admin.post(`/api/projects/${Q.id}/decommission`, { reason: 'mcp auth test', confirm: Q.id }, [200, 202]);
  is401(await post(bearer(Q.key)), 'key of a decommissioned project');
});

// ---- Host / Origin guard (server bound to loopback: only loopback names are accepted)
const guard = (r, code, what) => {
  assert.equal(r.status, 403, `${what}: HTTP ${r.status} (want 403): ${short(r.text)}`);
  assert.match(String(r.headers['content-type']), /^application\/json/, `${what}: content-type ${r.headers['content-type']}`);
  assert.equal(r.json?.error?.code, code, `${what}: ${short(r.text)}`);
};
await suite.test('403: foreign Origin, even with a valid key', async () => {
  for (const o of ['https://evil.example.com', `http://evil.example.com:${port}`, 'null', `http://127.0.0.1.evil.example.com:${port}`,
    `http://localhost.evil.example.com`, 'file://', `http://evil.example.com/http://127.0.0.1:${port}`]) {
    guard(await post({ ...bearer(P.key), origin: o }), 'origin_not_allowed', `Origin ${o}`);
  }
});
await suite.test('403: Host evil.example.com, even with a valid key (and before auth)', async () => {
  for (const h of ['evil.example.com', `evil.example.com:${port}`, `127.0.0.1.evil.example.com:${port}`, '127.0.0.2', '']) {
    guard(await post({ ...bearer(P.key), host: h }), 'host_not_allowed', `Host ${JSON.stringify(h)}`);
  }
  guard(await post({ host: 'evil.example.com' }), 'host_not_allowed', 'Host evil without a key');
});
await suite.test('loopback Host and same-origin Origin are accepted', async () => {
  for (const h of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost']) is200(await post({ ...bearer(P.key), host: h }), `Host ${h}`);
  for (const o of [`http://127.0.0.1:${port}`, `http://localhost:${port}`]) is200(await post({ ...bearer(P.key), origin: o }), `Origin ${o}`);
});

await suite.test('the server still answers /healthz', async () => {
  const r = await raw(`${base}/healthz`, { method: 'GET' });
  assert.equal(r.status, 200);
});

suite.done();
