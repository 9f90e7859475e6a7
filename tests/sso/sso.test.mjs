// Asgard SSO in real headless Chromium against a real OpenID provider (tests/sso/idp.mjs).
// Started by tests/sso/run.sh, which boots both and sets ASGARD_BASE, IDP_BASE, ASGARD_DB,
// ADMIN_PASSWORD. Prints PASS/FAIL per case and a last line `RESULT passed=N failed=M`.
import http from 'node:http';
import { launch } from '../harness/browser.mjs';
import {
  env, test, summary, assert, eq, sql, sessionCount, api, admin, idp,
  ssoLogin, captureCallback, deliver, sessionCookie, me,
} from './lib.mjs';

const { ctx, close } = await launch();
const page = ctx.pages()[0] ?? await ctx.newPage();
page.setDefaultTimeout(15000);

// Each case starts signed out everywhere (Asgard and the IdP) with a well-behaved IdP.
async function fresh() {
  await ctx.clearCookies();
  await idp({ mode: 'normal', name: '', hold: '0', auth: 'basic' });
}

// A refused sign-in: the error page with `status` and `code`, no session cookie, no new session.
async function refused(res, status, code, before, { jarMustBeEmpty = true } = {}) {
  eq(res.status, status, 'status of the callback');
  eq(res.code, code, 'error page code');
  assert(!res.setCookie.includes('asgard_session='), 'no session cookie is set');
  eq(sessionCount(), before, 'sessions in the database');
  if (jarMustBeEmpty) assert(!(await sessionCookie(ctx)), 'the browser holds no session cookie');
}

let alice;

await test('round trip: /api/auth/oidc/login → IdP → callback lands on / with a session; /api/auth/me is the user', async () => {
  await fresh();
  const before = sessionCount();
  const res = await ssoLogin(page, 'alice');
  eq(res.status, 302, 'callback status');
  eq(res.url, `${env.base}/`, 'landing page');
  const c = await sessionCookie(ctx);
  assert(c, 'asgard_session cookie set');
  assert(c.httpOnly && c.sameSite === 'Lax' && c.path === '/', `cookie flags ${JSON.stringify(c)}`);
  eq(sessionCount(), before + 1, 'one new session');
  const m = await me(page);
  eq(m.status, 200, '/api/auth/me');
  eq(m.body.username, 'alice', 'username');
  eq(m.body.email, 'alice@example.com', 'email');
  eq(m.body.role, 'member', 'new SSO users are members');
  eq(m.body.local, false, 'no local password');
  alice = m.body;
  const audit = await api('/api/audit?action=auth.login&limit=5', { token: await admin() });
  const ev = audit.json.events.find((e) => e.target === alice.id);
  assert(ev && ev.data.method === 'oidc', `auth.login audited with method oidc: ${JSON.stringify(audit.json.events[0])}`);
});

await test('return_to: a same-origin path is where the sign-in lands', async () => {
  await fresh();
  const res = await ssoLogin(page, 'alice', `${env.base}/api/auth/oidc/login?return_to=${encodeURIComponent('/healthz?from=sso')}`);
  eq(res.status, 302, 'callback status');
  eq(res.url, `${env.base}/healthz?from=sso`, 'landing page');
});

await test('return_to off-site (//host, https://host, /\\host, /<tab>/host) → error page, no redirect, no session', async () => {
  for (const bad of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', '/\t/evil.example']) {
    await fresh();
    const before = sessionCount();
    const r = await page.goto(`${env.base}/api/auth/oidc/login?return_to=${encodeURIComponent(bad)}`);
    eq(r.status(), 400, `status for ${JSON.stringify(bad)}`);
    eq(await page.locator('#sso-error').getAttribute('data-code'), 'invalid_return_to', 'error code');
    assert(page.url().startsWith(env.base), `stayed on Asgard (${page.url()})`);
    eq(sessionCount(), before, 'no session');
    assert(!(await sessionCookie(ctx)), 'no session cookie');
  }
});

await test('tampered state → error page, no session', async () => {
  await fresh();
  const url = new URL(await captureCallback(page, 'alice'));
  const s = url.searchParams.get('state');
  url.searchParams.set('state', (s[0] === 'A' ? 'B' : 'A') + s.slice(1));
  const before = sessionCount();
  await refused(await deliver(page, url.href), 400, 'unknown_state', before);
});

await test('replayed state: the first callback signs in, the replay is refused and creates no session', async () => {
  await fresh();
  const url = await captureCallback(page, 'alice');
  const first = await deliver(page, url);
  eq(first.status, 302, 'first delivery');
  const before = sessionCount();
  await refused(await deliver(page, url), 400, 'unknown_state', before, { jarMustBeEmpty: false });
});

await test('login CSRF: a callback finished in another browser (no binding cookie) is refused', async () => {
  await fresh();
  const url = await captureCallback(page, 'alice');
  await ctx.clearCookies();
  const before = sessionCount();
  await refused(await deliver(page, url), 400, 'browser_mismatch', before);
});

await test('IdP error=access_denied (user cancels at the IdP) → error page, no session', async () => {
  await fresh();
  const before = sessionCount();
  const cb = page.waitForResponse((r) => r.url().startsWith(`${env.base}/api/auth/oidc/callback`));
  await page.goto(`${env.base}/api/auth/oidc/login`);
  await page.waitForURL(/\/interaction\//);
  await page.click('a[href*="/abort"]');
  const resp = await cb;
  await page.waitForLoadState('load');
  assert(resp.url().includes('error=access_denied'), `callback carries error=access_denied: ${resp.url()}`);
  const code = await page.locator('#sso-error').getAttribute('data-code');
  await refused({ status: resp.status(), code, setCookie: (await resp.headerValue('set-cookie')) || '' }, 403, 'access_denied', before);
});

for (const [mode, status, code] of [
  ['wrong-nonce', 401, 'nonce_mismatch'],
  ['rotate', 302, null],
  ['unknown-key', 401, 'unknown_signing_key'],
  ['expired', 401, 'expired_id_token'],
  ['wrong-aud', 401, 'invalid_id_token'],
]) {
  const what = {
    'wrong-nonce': 'an ID token for another nonce',
    rotate: 'key rotation: a token signed by a key published after boot is accepted (JWKS refetched)',
    'unknown-key': 'an ID token signed by a key the IdP does not publish',
    expired: 'an expired ID token',
    'wrong-aud': 'an ID token issued for another client',
  }[mode];
  await test(`${what}${code ? ' → error page, no session' : ''}`, async () => {
    await fresh();
    await idp({ mode });
    const before = sessionCount();
    const res = await ssoLogin(page, 'alice');
    if (code) {
      await refused(res, status, code, before);
    } else {
      eq(res.status, 302, 'callback status');
      eq((await me(page)).body.id, alice.id, 'same user');
    }
  });
}

await test('a token endpoint that only accepts client_secret_post (Auth0 default): Asgard retries with it', async () => {
  await fresh();
  await idp({ auth: 'post' });
  eq((await ssoLogin(page, 'alice')).status, 302, 'callback status');
  eq((await me(page)).body.id, alice.id, 'same user');
});

await test('an IdP user whose (verified) email is the bootstrap admin\'s is not linked to it → error page, no session', async () => {
  await fresh();
  const before = sessionCount();
  await refused(await ssoLogin(page, 'admin@corp.example'), 403, 'account_link_refused', before);
  const row = sql("SELECT oidc_subject, role FROM users WHERE username = 'admin'")[0];
  eq(row[0], null, 'the admin has no SSO link');
  eq(sql("SELECT COUNT(*) FROM users WHERE email = 'admin@corp.example'")[0][0], 1, 'no second account with that email');
});

await test('first sign-in links an existing local account by verified email', async () => {
  await fresh();
  const carol = await api('/api/users', { method: 'POST', token: await admin(), body: { username: 'carol', email: 'carol@corp.example', password: 'carol-local-pw-123', role: 'auditor' } });
  eq(carol.status, 201, `create carol: ${carol.text}`);
  const res = await ssoLogin(page, 'carol@corp.example');
  eq(res.status, 302, 'callback status');
  const m = await me(page);
  eq(m.body.id, carol.json.id, 'linked to the existing account');
  eq(m.body.role, 'auditor', 'role kept');
  const local = await api('/api/auth/login', { method: 'POST', body: { username: 'carol', password: 'carol-local-pw-123' } });
  eq(local.status, 200, 'her local password still works');
});

await test('an unverified email is neither linked nor stored (new member without email)', async () => {
  await fresh();
  await api('/api/users', { method: 'POST', token: await admin(), body: { username: 'dan', email: 'unverified-dan@corp.example', password: 'dan-local-pw-1234' } });
  const res = await ssoLogin(page, 'unverified-dan@corp.example');
  eq(res.status, 302, 'callback status');
  const m = await me(page);
  assert(m.body.username !== 'dan', `not linked to dan (${m.body.username})`);
  eq(m.body.email, null, 'email not stored');
});

await test('group → role mapping: a member of ASGARD_OIDC_ADMIN_GROUPS signs in as admin', async () => {
  await fresh();
  eq((await ssoLogin(page, 'boss@corp.example')).status, 302, 'callback status');
  eq((await me(page)).body.role, 'admin', 'role from groups');
});

await test('the profile is refreshed at each sign-in', async () => {
  await fresh();
  await idp({ name: 'Alice Renamed' });
  eq((await ssoLogin(page, 'alice')).status, 302, 'callback status');
  const m = await me(page);
  eq(m.body.id, alice.id, 'same account');
  eq(m.body.display_name, 'Alice Renamed', 'display name from the IdP');
});

await test('CSRF: a cookie-authenticated POST from another origin is refused (403); same-origin works', async () => {
  await fresh();
  eq((await ssoLogin(page, 'alice')).status, 302, 'signed in');
  const evil = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><title>evil</title><script>
      fetch(${JSON.stringify(`${env.base}/api/auth/tokens`)}, { method: 'POST', mode: 'no-cors', credentials: 'include',
        headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ name: 'csrf' }) });
    </script>`);
  }).listen(0, '127.0.0.1');
  await new Promise((r) => evil.once('listening', r));
  try {
    const hit = page.waitForResponse((r) => r.url() === `${env.base}/api/auth/tokens` && r.request().method() === 'POST');
    await page.goto(`http://127.0.0.1:${evil.address().port}/`);
    const resp = await hit;
    // 403, not 401: the browser did send the session cookie, and Asgard refused the origin.
    eq(resp.status(), 403, 'cross-origin POST with the session cookie');
    const body = await resp.json().catch(() => null);
    if (body) eq(body.error?.code, 'cross_origin_refused', 'error code');
  } finally {
    evil.close();
  }
  await page.goto(`${env.base}/`);
  const own = await page.evaluate(async () => (await fetch('/api/auth/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'own' }) })).status);
  eq(own, 201, 'same-origin POST with the cookie');
  const list = await page.evaluate(async () => (await fetch('/api/auth/tokens')).json());
  assert(!JSON.stringify(list).includes('"csrf"'), 'no token minted by the cross-origin request');
  const c = await sessionCookie(ctx);
  const forged = await api('/api/auth/tokens', { method: 'POST', cookie: c.value, body: { name: 'csrf2' }, headers: { origin: 'https://evil.example' } });
  eq(forged.status, 403, 'POST with the cookie and a foreign Origin (no browser)');
  eq(forged.json?.error?.code, 'cross_origin_refused', 'error code');
});

await test('a disabled account is refused with a clear page and no session', async () => {
  await fresh();
  const r = await api(`/api/users/${alice.id}`, { method: 'PATCH', token: await admin(), body: { active: false } });
  eq(r.status, 200, `disable alice: ${r.text}`);
  const before = sessionCount();
  await refused(await ssoLogin(page, 'alice'), 403, 'account_disabled', before);
});

await test('the local admin still signs in with SSO on (break-glass)', async () => {
  const r = await api('/api/auth/login', { method: 'POST', body: { username: 'admin', password: env.adminPassword } });
  eq(r.status, 200, 'local admin login');
  const m = await api('/api/auth/me', { token: r.json.token });
  eq(m.json.username, 'admin', 'me');
});

await close();
const { passed, failed } = summary();
console.log(`RESULT passed=${passed} failed=${failed}`);
process.exit(failed ? 1 : 0);
