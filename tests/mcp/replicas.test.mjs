// Two Asgard replicas on one Postgres database, no sticky sessions (SPEC §5.1, issue 3): a client whose
// requests alternate between them completes initialize -> tools/list -> tools/call, both with raw
// JSON-RPC and with the official TypeScript SDK (a fetch that routes each request to a replica).
// Started by tests/mcp/replicas.sh, which boots both processes.
// Usage: MCP_BASE_A=http://127.0.0.1:PA MCP_BASE_B=http://127.0.0.1:PB MCP_ADMIN_PASSWORD=… node tests/mcp/replicas.test.mjs
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Suite, Rest, assert, env, deadline, raw, rpc, ok, MCP_HEADERS, hex32, short } from './lib.mjs';

const S = 'mcp-replicas';
const A = env('MCP_BASE_A', 'see the header of this file');
const B = env('MCP_BASE_B', 'see the header of this file');
const adminPw = env('MCP_ADMIN_PASSWORD', 'see the header of this file');
deadline(S, 180);
const suite = new Suite(S);
const tag = hex32().slice(0, 6);

const adminA = await Rest.login(A, 'admin', adminPw);
const P = await adminA.project(`Replicas ${tag}`, `owner-${tag}@corp.example`, `mgr-${tag}@corp.example`);
const adminB = await Rest.login(B, 'admin', adminPw);

await suite.test('both replicas serve the same database', async () => {
  assert.equal((await adminB.get(`/api/projects/${P.id}`)).project_id, P.id);
});

await suite.test('raw JSON-RPC: initialize on A, tools/list on B, tools/call alternating A/B', async () => {
  const init = await rpc(A, P.key, 'initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'replicas', version: '0' } });
  assert.equal(init.status, 200, `initialize on A: ${init.status} ${short(init.text)}`);
  assert.equal(init.json?.result?.serverInfo?.name, 'asgard');
  const version = init.json.result.protocolVersion;
  // Whatever session state the server hands out must be honoured by the other replica.
  const sid = init.headers['mcp-session-id'];
  const h = { 'mcp-protocol-version': version, ...(sid ? { 'mcp-session-id': sid } : {}) };
  const note = await raw(`${B}/mcp`, { headers: { ...MCP_HEADERS, ...h, authorization: `Bearer ${P.key}` }, body: { jsonrpc: '2.0', method: 'notifications/initialized' } });
  assert.ok([200, 202].includes(note.status), `notifications/initialized on B: ${note.status} ${short(note.text)}`);
  const list = await rpc(B, P.key, 'tools/list', {}, { headers: h });
  assert.equal(list.status, 200, `tools/list on B: ${list.status} ${short(list.text)}`);
  const names = list.json?.result?.tools?.map((t) => t.name) ?? [];
  assert.ok(names.includes('seed_plan'), `tools/list on B lacks seed_plan: ${names.join(', ')}`);
  const calls = [['whoami', {}], ['seed_plan', { languages: ['rust'], task: 'replica test' }], ['get_project', {}]];
  let n = 0;
  for (let round = 0; round < 2; round++) {
    for (const [name, args] of calls) {
      const base = n++ % 2 === 0 ? A : B;
      const r = await rpc(base, P.key, 'tools/call', { name, arguments: args }, { headers: h });
      assert.equal(r.status, 200, `${name} on ${base}: ${r.status} ${short(r.text)}`);
      const res = r.json?.result;
      assert.ok(res && !res.isError, `${name} on ${base}: ${short(r.text)}`);
      if (name === 'whoami') assert.equal(res.structuredContent.project_id, P.id);
      if (name === 'get_project') assert.equal(res.structuredContent.project_id, P.id);
      if (name === 'seed_plan') assert.ok(res.structuredContent.files.length > 0);
    }
  }
});

await suite.test('TypeScript SDK client with requests routed alternately to A and B', async () => {
  const served = { [A]: [], [B]: [] };
  let toolCalls = 0;
  const routed = async (url, init) => {
    let method = init?.method ?? 'GET';
    try { method = JSON.parse(init.body).method ?? method; } catch { /* GET/DELETE: no body */ }
    const target = method === 'initialize' ? A
      : method === 'notifications/initialized' || method === 'tools/list' ? B
        : method === 'tools/call' ? (toolCalls++ % 2 === 0 ? A : B)
          : B;
    served[target].push(method);
    const u = new URL(url);
    return fetch(`${target}${u.pathname}${u.search}`, init);
  };
  const client = new Client({ name: 'replicas-sdk', version: '0.0.1' });
  const transport = new StreamableHTTPClientTransport(new URL(`${A}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${P.key}` } }, fetch: routed,
  });
  await client.connect(transport);
  try {
    assert.equal(client.getServerVersion()?.name, 'asgard');
    const { tools } = await client.listTools();
    assert.ok(tools.some((t) => t.name === 'seed_plan'), 'tools/list lacks seed_plan');
    for (let i = 0; i < 3; i++) {
      for (const [name, args] of [['whoami', {}], ['seed_plan', { languages: ['go'], task: 'replicas' }], ['get_project', {}]]) {
        const r = await client.callTool({ name, arguments: args });
        assert.ok(!r.isError, `${name}: ${short(r.content)}`);
        assert.ok(r.structuredContent, `${name}: no structuredContent`);
      }
    }
  } finally {
    await client.close().catch(() => {});
  }
  assert.ok(served[A].includes('initialize') && served[B].includes('tools/list'), `routing: ${short(served)}`);
  assert.ok(served[A].filter((m) => m === 'tools/call').length >= 4 && served[B].filter((m) => m === 'tools/call').length >= 4, `routing: ${short(served)}`);
  console.log(`  A served ${served[A].length} requests, B ${served[B].length}`);
});

await suite.test('a PAT minted on B works on A; a project registered on A is read on B', async () => {
  const t = await adminB.post('/api/auth/tokens', { name: `replicas-${tag}` }, 201);
  const pr = await ok(A, t.token, 'register_project', { name: `Replica-made ${tag}`, owner_email: `owner-${tag}@corp.example`, manager_email: `mgr-${tag}@corp.example`, group: 'platform' });
  assert.equal((await ok(B, t.token, 'get_project', { project_id: pr.project_id })).name, `Replica-made ${tag}`);
});

await suite.test('kill on B takes effect on A at once (no per-replica credential cache)', async () => {
  await adminB.post(`/api/projects/${P.id}/kill`, { reason: 'replica test' }, 200);
  const r = await rpc(A, P.key, 'tools/list', {});
  assert.equal(r.status, 401, `key of a killed project on A: ${r.status}`);
  await adminA.post(`/api/projects/${P.id}/unkill`, {}, 200);
  const r2 = await rpc(B, P.key, 'tools/list', {});
  assert.equal(r2.status, 200, `key after unkill on B: ${r2.status}`);
});

suite.done();
