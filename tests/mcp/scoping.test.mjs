// Scoping through /mcp (SPEC §5.2, issue 3 "Tests that must exist: Scoping"), with positive controls so
// no negative check passes vacuously:
//   - a key of project A cannot read or change project B through any project-scoped tool;
//   - a member's PAT cannot act on a project it neither owns nor manages (but can on one it manages);
//   - an auditor's PAT reads org-wide but every write tool is `forbidden` (and nothing changes);
//   - register_project: a key -> forbidden; a member PAT -> the owner defaults to the member.
// Sets itself up through REST as the admin. When MCP_ARMED=1 (provisioning armed with the demo module),
// project B and C get a real demo-token whose secret value must never leak across projects.
// Usage: MCP_BASE=http://127.0.0.1:PORT MCP_ADMIN_PASSWORD=… [MCP_ARMED=1] node tests/mcp/scoping.test.mjs
import { Suite, Rest, assert, env, deadline, ok, tool, toolErr, waitRequest, short, hex32 } from './lib.mjs';

const S = 'mcp-scoping';
const base = env('MCP_BASE', 'see the header of this file');
const adminPw = env('MCP_ADMIN_PASSWORD', 'see the header of this file');
const armed = process.env.MCP_ARMED === '1';
deadline(S, 240);
const suite = new Suite(S);
const tag = hex32().slice(0, 6);

// ---------- setup (REST as admin; resources through MCP with the admin's PAT)
const admin = await Rest.login(base, 'admin', adminPw);
const adminPat = (await admin.post('/api/auth/tokens', { name: `scoping-${tag}` }, 201)).token;
const member = await admin.userWithPat(`mem-${tag}`, 'member');
const auditor = await admin.userWithPat(`aud-${tag}`, 'auditor');
const A = await admin.project(`Scoping A ${tag}`, `alice-${tag}@corp.example`, `amgr-${tag}@corp.example`);
const B = await admin.project(`Scoping B ${tag}`, `bob-${tag}@corp.example`, `bmgr-${tag}@corp.example`);
// C: owned and managed by other people than the member. D: the member is its manager.
const C = await admin.project(`Scoping C ${tag}`, `carol-${tag}@corp.example`, `dave-${tag}@corp.example`);
const D = await admin.project(`Scoping D ${tag}`, `carol-${tag}@corp.example`, member.email);

/** A demo-token resource in `p` (through MCP, as admin); when armed, wait for it and return its secret. */
async function demoToken(p, name) {
  const r = await ok(base, adminPat, 'request_resource', { project_id: p.id, service: 'demo-token', name });
  let state = r.state;
  let outputs = r.outputs ?? {};
  if (armed) {
    const done = await waitRequest(base, adminPat, r.request_id);
    assert.equal(done.state, 'fulfilled', `demo-token in ${p.id}: ${done.state} ${short(done.failure_reason)}`);
    state = done.state;
    outputs = done.outputs ?? {};
  }
  const ref = outputs.token?.secret_ref ?? `asgard://secrets/${p.id}/${name}/token`;
  let value = null;
  if (armed) value = (await ok(base, adminPat, 'get_secret', { secret_ref: ref })).value;
  return { requestId: r.request_id, resourceId: r.resource_id, name, state, ref, value };
}
const resB = await demoToken(B, 'tok-b');
const resC = await demoToken(C, 'tok-c');
const resA = await demoToken(A, 'tok-a');
console.log(`  setup: A=${A.id} B=${B.id} C=${C.id} D=${D.id}, armed=${armed}, B's request ${resB.requestId} (${resB.state})`);
if (!armed) console.log('  note: provisioning not armed; secret refs of B/C point at no stored value (still must be refused)');

/** Project B as the admin sees it, for "nothing changed" checks. */
const snapshot = async (p) => {
  const pr = await admin.get(`/api/projects/${p.id}`);
  const res = await admin.get(`/api/projects/${p.id}/resources?include_destroyed=true`).catch(() => null);
  return JSON.stringify({
    name: pr.name, description: pr.description, evidence: pr.evidence, budget: pr.budget_usd,
    manager: pr.manager_email, killed: pr.killed, lifecycle: pr.lifecycle,
    resources: (res?.resources ?? []).map((r) => [r.resource_id, r.name, r.state, r.spec]).sort(),
  });
};
/** The response of a refused call must not carry anything of the foreign project the caller did not send. */
function noLeak(e, p, res, args = {}) {
  const sent = JSON.stringify(args);
  for (const secret of [p.name, res.resourceId, res.requestId, res.value].filter((x) => x && !sent.includes(x))) {
    assert.ok(!e.text.includes(secret), `refusal leaks ${secret}: ${short(e.text)}`);
  }
}

// Every project-scoped tool, with arguments that target project `p` (whose resource is `res`).
const scopedCalls = (p, res) => [
  ['get_project', { project_id: p.id }],
  ['update_project', { project_id: p.id, description: `pwned ${tag}` }, 'description'],
  ['update_project', { project_id: p.id, evidence: { runbook_url: 'https://evil.example.com' } }, 'evidence'],
  ['promotion_status', { project_id: p.id }],
  ['request_resource', { project_id: p.id, service: 'demo-token', name: 'intruder' }],
  ['list_requests', { project_id: p.id }],
  ['list_resources', { project_id: p.id, include_destroyed: true }],
  ['get_resource', { project_id: p.id, resource: res.name }, 'by name'],
  ['get_resource', { project_id: p.id, resource: res.resourceId }, 'by id'],
  ['deprovision_resource', { project_id: p.id, resource: res.name, confirm: true }],
  ['list_secrets', { project_id: p.id }],
  ['project_cost', { project_id: p.id }],
];

// ---------- 1. a key of project A against project B
await suite.test('key A: whoami is locked to A (and takes no project_id)', async () => {
  const sc = await ok(base, A.key, 'whoami');
  assert.equal(sc.kind, 'project_key');
  assert.equal(sc.project_id, A.id);
  await toolErr(base, A.key, 'whoami', { project_id: B.id }, ['invalid_argument', 'forbidden']);
});

await suite.test('key A: positive control (own project reads and writes work)', async () => {
  assert.equal((await ok(base, A.key, 'get_project')).project_id, A.id);
  assert.equal((await ok(base, A.key, 'get_project', { project_id: A.id })).project_id, A.id);
  await ok(base, A.key, 'update_project', { description: `agent note ${tag}` });
  await ok(base, A.key, 'promotion_status');
  await ok(base, A.key, 'list_requests');
  const rs = await ok(base, A.key, 'list_resources');
  assert.ok(rs.resources.some((r) => r.resource_id === resA.resourceId), `A's resource missing: ${short(rs)}`);
  await ok(base, A.key, 'get_resource', { resource: 'tok-a' });
  await ok(base, A.key, 'get_request', { request_id: resA.requestId });
  await ok(base, A.key, 'list_secrets');
  await ok(base, A.key, 'project_cost');
  if (armed) {
    const s = await ok(base, A.key, 'get_secret', { secret_ref: resA.ref });
    assert.equal(s.value, resA.value);
  }
});

const beforeB = await snapshot(B);
for (const [name, args, label] of scopedCalls(B, resB)) {
  await suite.test(`key A -> B: ${name}${label ? ` (${label})` : ''} refused`, async () => {
    noLeak(await toolErr(base, A.key, name, args, ['forbidden', 'not_found']), B, resB, args);
  });
}
await suite.test('key A -> B: ids of B without project_id are not found in A', async () => {
  for (const [name, args] of [['get_request', { request_id: resB.requestId }], ['get_resource', { resource: resB.resourceId }],
    ['deprovision_resource', { resource: resB.resourceId, confirm: true }], ['get_resource', { resource: 'tok-b' }]]) {
    noLeak(await toolErr(base, A.key, name, args, ['not_found', 'forbidden']), B, resB, args);
  }
});
await suite.test('key A -> B: get_secret of a B secret_ref refused (no value)', async () => {
  noLeak(await toolErr(base, A.key, 'get_secret', { secret_ref: resB.ref }, ['not_found', 'forbidden']), B, resB, { ref: resB.ref });
  // Path tricks in the ref must not reach B either.
  for (const ref of [`asgard://secrets/${A.id}/../${B.id}/tok-b/token`, `asgard://secrets/${B.id}/tok-b/../tok-b/token`,
    `asgard://secrets/${A.id}/tok-a/../../${B.id}/tok-b/token`, resB.ref.toUpperCase(), `${resB.ref}/`, ` ${resB.ref}`]) {
    const r = await tool(base, A.key, 'get_secret', { secret_ref: ref });
    assert.ok(r.isError, `get_secret(${ref}) succeeded: ${short(r.text)}`);
    if (resB.value) assert.ok(!r.text.includes(resB.value), `get_secret(${ref}) leaked B's secret`);
  }
});
await suite.test('key A: own listings show nothing of B', async () => {
  const all = JSON.stringify([await ok(base, A.key, 'list_requests'), await ok(base, A.key, 'list_resources', { include_destroyed: true }),
    await ok(base, A.key, 'list_secrets'), await ok(base, A.key, 'project_cost')]);
  for (const s of [B.id, resB.requestId, resB.resourceId]) assert.ok(!all.includes(s), `A's listings mention ${s}`);
});
await suite.test('key A -> B: project B unchanged after all attempts', async () => {
  assert.equal(await snapshot(B), beforeB);
});
await suite.test('key A: register_project is forbidden', async () => {
  await toolErr(base, A.key, 'register_project', { name: `Key-made ${tag}`, manager_email: `x-${tag}@corp.example`, group: 'platform' }, ['forbidden']);
  const list = await admin.get(`/api/projects?q=${encodeURIComponent(`Key-made ${tag}`)}`);
  assert.equal(list.projects.length, 0, 'a project was registered with a key');
});

// ---------- 2. a member's PAT
await suite.test('member PAT: whoami is the member, no project', async () => {
  const sc = await ok(base, member.pat, 'whoami');
  assert.equal(sc.kind, 'user');
  assert.equal(sc.role, 'member');
  assert.equal(sc.project_id, null);
  assert.equal(sc.user?.email, member.email);
});
await suite.test('member PAT: positive control on D (member manages it)', async () => {
  assert.equal((await ok(base, member.pat, 'get_project', { project_id: D.id })).project_id, D.id);
  await ok(base, member.pat, 'update_project', { project_id: D.id, description: `managed by ${member.username}` });
  await ok(base, member.pat, 'promotion_status', { project_id: D.id });
  await ok(base, member.pat, 'list_resources', { project_id: D.id });
  await ok(base, member.pat, 'list_requests', { project_id: D.id });
  await ok(base, member.pat, 'list_secrets', { project_id: D.id });
  await ok(base, member.pat, 'project_cost', { project_id: D.id });
});
await suite.test('member PAT: project-scoped tools need project_id', async () => {
  for (const name of ['get_project', 'update_project', 'promotion_status', 'list_resources', 'list_secrets', 'project_cost', 'list_requests']) {
    await toolErr(base, member.pat, name, {}, ['invalid_argument']);
  }
});
const beforeC = await snapshot(C);
for (const [name, args, label] of scopedCalls(C, resC)) {
  await suite.test(`member PAT -> C: ${name}${label ? ` (${label})` : ''} refused`, async () => {
    noLeak(await toolErr(base, member.pat, name, args, ['forbidden', 'not_found']), C, resC, args);
  });
}
await suite.test('member PAT -> C: get_request and get_secret refused', async () => {
  noLeak(await toolErr(base, member.pat, 'get_request', { request_id: resC.requestId }, ['not_found', 'forbidden']), C, resC, [resC.requestId]);
  noLeak(await toolErr(base, member.pat, 'get_secret', { secret_ref: resC.ref }, ['not_found', 'forbidden']), C, resC, [resC.ref]);
});
await suite.test('member PAT -> C: C\'s resource through project D (which the member manages) not found', async () => {
  for (const [name, args] of [['get_resource', { project_id: D.id, resource: resC.resourceId }],
    ['deprovision_resource', { project_id: D.id, resource: resC.resourceId, confirm: true }]]) {
    noLeak(await toolErr(base, member.pat, name, args, ['not_found', 'forbidden']), C, resC, args);
  }
  const ref = resC.ref.replace(C.id, D.id);
  const r = await tool(base, member.pat, 'get_secret', { secret_ref: ref });
  if (resC.value) assert.ok(!r.text.includes(resC.value), 'C\'s secret leaked through a D ref');
});
await suite.test('member PAT -> C: project C unchanged', async () => {
  assert.equal(await snapshot(C), beforeC);
});
await suite.test('member PAT: register_project defaults the owner to the member', async () => {
  const sc = await ok(base, member.pat, 'register_project', { name: `Member project ${tag}`, manager_email: `boss-${tag}@corp.example`, group: 'platform' });
  assert.match(sc.project_id, /^proj-\d{4}-\d{4}$/);
  assert.equal(sc.owner_email, member.email);
  // The member can use it; the audit log names the PAT's user as the actor.
  assert.equal((await ok(base, member.pat, 'get_project', { project_id: sc.project_id })).owner_email, member.email);
  const audit = await admin.get(`/api/audit?project=${sc.project_id}&action=project.registered`);
  const ev = (audit.events ?? []).find((e) => e.action === 'project.registered' && e.project_id === sc.project_id);
  assert.ok(ev, `no project.registered audit event for ${sc.project_id}: ${short(audit, 400)}`);
  assert.equal(ev.actor, `user:${member.email}`);
});
await suite.test('member PAT: authority survives e-mail case (user and project registered in mixed case)', async () => {
  const mixed = await admin.userWithPat(`mixed-${tag}`, 'member', `Mixed-${tag}@Corp.Example`);
  const own = await ok(base, mixed.pat, 'register_project', { name: `Mixed case ${tag}`, manager_email: `boss-${tag}@corp.example`, group: 'platform' });
  await ok(base, mixed.pat, 'get_project', { project_id: own.project_id });
  const E = await admin.project(`Mixed managed ${tag}`, `carol-${tag}@corp.example`, `MIXED-${tag}@CORP.EXAMPLE`);
  await ok(base, mixed.pat, 'get_project', { project_id: E.id });
  await ok(base, mixed.pat, 'update_project', { project_id: E.id, description: 'case-insensitive authority' });
});
await suite.test('member PAT: register_project for other people is forbidden', async () => {
  await toolErr(base, member.pat, 'register_project',
    { name: `Not mine ${tag}`, owner_email: `carol-${tag}@corp.example`, manager_email: `dave-${tag}@corp.example`, group: 'platform' }, ['forbidden']);
});

// ---------- 3. an auditor's PAT: reads everything, changes nothing
await suite.test('auditor PAT: whoami says auditor', async () => {
  const sc = await ok(base, auditor.pat, 'whoami');
  assert.equal(sc.role, 'auditor');
});
for (const p of [A, B, C, D]) {
  await suite.test(`auditor PAT: reads ${p.id} org-wide`, async () => {
    assert.equal((await ok(base, auditor.pat, 'get_project', { project_id: p.id })).project_id, p.id);
    await ok(base, auditor.pat, 'promotion_status', { project_id: p.id });
    await ok(base, auditor.pat, 'list_resources', { project_id: p.id });
    await ok(base, auditor.pat, 'list_requests', { project_id: p.id });
    await ok(base, auditor.pat, 'project_cost', { project_id: p.id });
  });
}
await suite.test('auditor PAT: reads B\'s request and resource', async () => {
  assert.equal((await ok(base, auditor.pat, 'get_request', { request_id: resB.requestId })).request_id, resB.requestId);
  assert.equal((await ok(base, auditor.pat, 'get_resource', { project_id: B.id, resource: 'tok-b' })).resource_id, resB.resourceId);
});
const beforeAll = JSON.stringify(await Promise.all([A, B, C, D].map(snapshot)));
const auditorWrites = [
  ['register_project', { name: `Auditor project ${tag}`, owner_email: auditor.email, manager_email: auditor.email, group: 'platform' }, 'as owner'],
  ['register_project', { name: `Auditor project 2 ${tag}`, manager_email: `x-${tag}@corp.example`, group: 'platform' }, 'owner defaulted'],
  ...[A, B, C, D].flatMap((p) => [
    ['update_project', { project_id: p.id, description: `audited ${tag}` }, `${p.id} description`],
    ['update_project', { project_id: p.id, evidence: { support_contact: 'auditor@corp.example' } }, `${p.id} evidence`],
    ['update_project', { project_id: p.id, budget_usd: 1 }, `${p.id} budget`],
    ['request_resource', { project_id: p.id, service: 'demo-token', name: 'auditor-tok' }, p.id],
  ]),
  ['deprovision_resource', { project_id: B.id, resource: 'tok-b', confirm: true }, `${B.id} by name`],
  ['deprovision_resource', { project_id: C.id, resource: resC.resourceId, confirm: true }, `${C.id} by id`],
];
for (const [name, args, label] of auditorWrites) {
  await suite.test(`auditor PAT: ${name} (${label}) forbidden`, async () => {
    await toolErr(base, auditor.pat, name, args, ['forbidden']);
  });
}
await suite.test('auditor PAT: secrets are not handed out', async () => {
  const r = await tool(base, auditor.pat, 'get_secret', { secret_ref: resB.ref });
  assert.ok(r.isError, `auditor read B's secret: ${short(r.text)}`);
  if (resB.value) assert.ok(!r.text.includes(resB.value), 'auditor response contains the secret value');
  const l = await tool(base, auditor.pat, 'list_secrets', { project_id: B.id });
  if (resB.value) assert.ok(!l.text.includes(resB.value), 'list_secrets contains a secret value');
});
await suite.test('auditor PAT: nothing changed anywhere', async () => {
  assert.equal(JSON.stringify(await Promise.all([A, B, C, D].map(snapshot))), beforeAll);
  const list = await admin.get(`/api/projects?q=${encodeURIComponent(`Auditor project`)}`);
  assert.equal(list.projects.length, 0, 'an auditor registered a project');
});

suite.done();
