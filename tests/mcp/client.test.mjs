// MCP client test with the official TypeScript SDK (@modelcontextprotocol/sdk, pinned in package.json)
// against a running Asgard, authenticated with a project key.
// Usage: node tests/mcp/client.test.mjs <mcp-url> <project-key> <project-id>
//   e.g. node tests/mcp/client.test.mjs http://127.0.0.1:8080/mcp asg_… proj-2026-0001
// Prints PASS/FAIL per step; exits 1 at the first failure (with the reason), 0 when all pass.
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const [url, key, projectId] = process.argv.slice(2);
if (!url || !key || !projectId) {
  console.error('usage: client.test.mjs <mcp-url> <project-key> <project-id>');
  process.exit(2);
}

// Hard stop: a hung server must not hang the suite.
setTimeout(() => { console.log('FAIL mcp-client: timed out after 120 s'); process.exit(1); }, 120_000).unref();

let failed = false;
async function step(name, fn) {
  if (failed) return;
  try {
    await fn();
    console.log(`PASS mcp-client ${name}`);
  } catch (e) {
    failed = true;
    console.log(`FAIL mcp-client ${name}: ${e?.message ?? e}`);
    if (process.env.DEBUG) console.error(e);
  }
}

const newClient = () => new Client({ name: 'asgard-client-test', version: '0.0.1' });
const authed = () => new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers: { Authorization: `Bearer ${key}` } },
});

// Finds the first value of a key named `name` anywhere in a JSON value.
function findKey(v, name) {
  if (v && typeof v === 'object') {
    if (!Array.isArray(v) && Object.hasOwn(v, name)) return v[name];
    for (const c of Object.values(v)) {
      const r = findKey(c, name);
      if (r !== undefined) return r;
    }
  }
  return undefined;
}

// A tool call must succeed (no isError) and carry structuredContent (SPEC §5.1).
async function call(client, name, args = {}) {
  const res = await client.callTool({ name, arguments: args });
  const text = (res.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join(' ');
  assert.ok(!res.isError, `${name} returned isError: ${text.slice(0, 500)}`);
  assert.ok(res.structuredContent && typeof res.structuredContent === 'object',
    `${name} result has no structuredContent object (content: ${text.slice(0, 300)})`);
  return res.structuredContent;
}

await step('rejects a connection without a key', async () => {
  const c = newClient();
  const t = new StreamableHTTPClientTransport(new URL(url));
  await assert.rejects(c.connect(t), (e) => {
    // The SDK surfaces the HTTP status in the message (e.g. "Error POSTing to endpoint (HTTP 401)")
    // or, for a 401 with an auth flow, as UnauthorizedError.
    const m = `${e?.name} ${e?.message} ${e?.code ?? ''}`;
    assert.match(m, /401|Unauthorized/i, `expected a 401, got: ${m}`);
    return true;
  });
  await c.close().catch(() => {});
});

const client = newClient();
const transport = authed();

await step('connect (initialize + notifications/initialized)', async () => {
  await client.connect(transport);
  const info = client.getServerVersion();
  assert.equal(info?.name, 'asgard', `serverInfo.name is ${JSON.stringify(info?.name)}`);
  assert.ok(client.getServerCapabilities()?.tools, 'server does not announce the tools capability');
  console.log(`  protocol ${transport.protocolVersion ?? '?'}, server ${JSON.stringify(info)}, session ${transport.sessionId ?? '(stateless)'}`);
});

await step('tools/list has whoami, seed_plan, register_project, list_services', async () => {
  const { tools } = await client.listTools();
  const names = tools.map((t) => t.name);
  for (const want of ['whoami', 'seed_plan', 'register_project', 'list_services']) {
    assert.ok(names.includes(want), `${want} missing from tools/list: ${names.join(', ')}`);
  }
  for (const t of tools) {
    assert.equal(t.inputSchema?.type, 'object', `${t.name}: inputSchema.type is not "object"`);
  }
  console.log(`  ${names.length} tools: ${names.join(', ')}`);
});

await step('seed_plan returns files[] and next', async () => {
  const sc = await call(client, 'seed_plan', { languages: ['rust'], task: 'build a react dashboard' });
  assert.ok(Array.isArray(sc.files), `structuredContent.files is not an array: ${JSON.stringify(sc).slice(0, 300)}`);
  assert.ok(sc.files.length > 0, 'structuredContent.files is empty');
  assert.equal(typeof sc.next, 'string', `structuredContent.next is not a string: ${JSON.stringify(sc.next)}`);
  console.log(`  ${sc.files.length} files: ${sc.files.map((f) => f.id ?? f.path).join(', ')}`);
});

await step('whoami names the key\'s project', async () => {
  const sc = await call(client, 'whoami');
  const pid = findKey(sc, 'project_id');
  assert.equal(pid, projectId, `whoami: project_id ${JSON.stringify(pid)} (want ${projectId}); got ${JSON.stringify(sc).slice(0, 400)}`);
});

await step('get_project returns the key\'s project', async () => {
  const sc = await call(client, 'get_project');
  const pid = sc.project_id ?? sc.project?.project_id;
  assert.equal(pid, projectId, `get_project: project_id ${JSON.stringify(pid)} (want ${projectId}); got ${JSON.stringify(sc).slice(0, 400)}`);
});

await client.close().catch(() => {});
if (failed) process.exit(1);
console.log('mcp-client: all steps passed');
