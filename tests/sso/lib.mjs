// Helpers for tests/sso/sso.test.mjs: config from the environment run.sh sets, the Asgard API,
// the test IdP's control endpoint, direct (read-mostly) SQLite access, and browser steps.
import { execFileSync } from 'node:child_process';

export const env = {
  base: must('ASGARD_BASE'),        // http://127.0.0.1:PORT
  idp: must('IDP_BASE'),            // http://127.0.0.1:PORT
  db: must('ASGARD_DB'),            // SQLite file
  adminPassword: must('ADMIN_PASSWORD'),
  shots: process.env.SSO_SHOTS || '', // directory for failure screenshots ('' = none)
};

function must(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run tests/sso/run.sh)`);
  return v;
}

// ---- results -------------------------------------------------------------------------------
const results = [];
export async function test(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`PASS ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    results.push({ name, ok: false });
    console.log(`FAIL ${name} (${Date.now() - t0} ms): ${e?.stack || e}`);
  }
}
export function summary() {
  const passed = results.filter((r) => r.ok).length;
  return { passed, failed: results.length - passed };
}
export function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}
export function eq(actual, expected, msg) {
  if (actual !== expected) throw new Error(`${msg}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

// ---- SQLite (python3's sqlite3; Node 20 has no built-in driver) ------------------------------
export function sql(query, params = []) {
  const py = 'import sqlite3,sys,json\n'
    + 'c=sqlite3.connect(sys.argv[1],timeout=10)\n'
    + 'r=c.execute(sys.argv[2],json.loads(sys.argv[3])).fetchall()\nc.commit()\n'
    + 'print(json.dumps(r))';
  return JSON.parse(execFileSync('python3', ['-c', py, env.db, query, JSON.stringify(params)]).toString());
}
export const sessionCount = () => sql('SELECT COUNT(*) FROM sessions')[0][0];

// ---- Asgard API ------------------------------------------------------------------------------
export async function api(path, { method = 'GET', token, cookie, body, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  if (cookie) h.cookie = `asgard_session=${cookie}`;
  if (body !== undefined) h['content-type'] = 'application/json';
  const r = await fetch(env.base + path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), redirect: 'manual' });
  const text = await r.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: r.status, json, text, headers: r.headers };
}
let adminToken;
export async function admin() {
  if (!adminToken) {
    const r = await api('/api/auth/login', { method: 'POST', body: { username: 'admin', password: env.adminPassword } });
    eq(r.status, 200, 'admin login');
    adminToken = r.json.token;
  }
  return adminToken;
}

// ---- test IdP ----------------------------------------------------------------------------------
export async function idp(params) {
  const r = await fetch(`${env.idp}/__control?${new URLSearchParams(params)}`);
  if (!r.ok) throw new Error(`idp control ${JSON.stringify(params)}: ${r.status}`);
}

// ---- browser steps -----------------------------------------------------------------------------
const CALLBACK = () => `${env.base}/api/auth/oidc/callback`;

// Fill the IdP's dev login form (we must be on its /interaction/ page).
async function signInAtIdp(page, login) {
  await page.waitForURL(/\/interaction\//, { timeout: 15000 });
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', 'any-password');
  await page.click('button[type="submit"]');
}

// Start at `start` (default: the SSO login), sign in as `login`, and let the callback reach Asgard.
// Returns { status, setCookie, url, code } of the callback response and where the browser ended.
export async function ssoLogin(page, login, start = `${env.base}/api/auth/oidc/login`) {
  const cb = page.waitForResponse((r) => r.url().startsWith(CALLBACK()), { timeout: 20000 });
  await page.goto(start);
  await signInAtIdp(page, login);
  return finish(page, await cb);
}

async function finish(page, resp) {
  const setCookie = (await resp.headerValue('set-cookie')) || '';
  await page.waitForLoadState('load');
  const code = await page.locator('#sso-error').getAttribute('data-code', { timeout: 1000 }).catch(() => null);
  return { status: resp.status(), setCookie, url: page.url(), code };
}

// Sign in at the IdP but stop before the callback reaches Asgard (the IdP's `hold` mode shows the
// callback URL instead of redirecting to it); returns the callback URL.
export async function captureCallback(page, login) {
  await idp({ hold: '1' });
  try {
    await page.goto(`${env.base}/api/auth/oidc/login`);
    await signInAtIdp(page, login);
    const href = await page.locator('a#callback').getAttribute('href', { timeout: 15000 });
    assert(href && href.startsWith(CALLBACK()), `callback URL captured: ${href}`);
    return href;
  } finally {
    await idp({ hold: '0' });
  }
}

// Deliver a callback URL to Asgard in this page.
export async function deliver(page, url) {
  const cb = page.waitForResponse((r) => r.url().startsWith(CALLBACK()), { timeout: 20000 });
  await page.goto(url);
  return finish(page, await cb);
}

export async function sessionCookie(ctx) {
  return (await ctx.cookies(env.base)).find((c) => c.name === 'asgard_session');
}

// Same-origin GET from the page (the browser sends its own cookie).
export async function me(page) {
  return page.evaluate(async () => {
    const r = await fetch('/api/auth/me');
    return { status: r.status, body: await r.json().catch(() => null) };
  });
}
