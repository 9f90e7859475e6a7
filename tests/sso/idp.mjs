// Test OpenID provider for Asgard's SSO suite: panva's oidc-provider (9.x, pinned in the repo-root
// package.json) with one confidential client, dev interactions (any login + any password; the login
// becomes `sub`), consent auto-granted, and a small control endpoint that makes the *next* token
// responses misbehave the way a broken or hostile provider would.
//
// Run:  IDP_PORT=… REDIRECT_URI=http://127.0.0.1:APP/api/auth/oidc/callback node tests/sso/idp.mjs
// Env:  IDP_PORT (required), REDIRECT_URI (required), CLIENT_ID / CLIENT_SECRET (asgard / asgard-secret)
//
// Accounts (derived from the login name):
//   email          = the login if it contains "@", else "<login>@example.com"
//   email_verified = false when the login starts with "unverified", else true
//   groups         = ["asgard-admins"] when the login starts with "boss", else ["staff"]
//   name           = the login's local part (or the `name` override below)
//
// Control (GET, loopback only):  /__control?mode=MODE[&name=NAME]   → {"mode": …}
//   normal        tokens as oidc-provider issues them
//   wrong-nonce   ID token re-signed (real key) with another nonce
//   unknown-key   ID token re-signed with a key the JWKS never publishes (kid "rogue")
//   expired       ID token re-signed (real key) with iat/exp an hour in the past
//   wrong-aud     ID token re-signed (real key) for another client
//   rotate        publish a second key "k2" in the JWKS from now on and sign with it (key rotation)
//   name=NAME     override the `name` claim (profile refresh); empty resets it
//   auth=post     the token endpoint refuses client_secret_basic with 401 invalid_client and accepts
//                 client_secret_post (how Auth0 treats an application set to "Client Secret (Post)");
//                 auth=basic resets
//   hold=1        do not redirect the browser to the client's callback: show a page whose
//                 <a id="callback"> holds the callback URL instead (the test delivers it itself);
//                 hold=0 resets
import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.IDP_PORT);
const redirectUri = process.env.REDIRECT_URI;
if (!port || !redirectUri) {
  console.error('IDP_PORT and REDIRECT_URI are required');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;
const clientId = process.env.CLIENT_ID || 'asgard';

function rsaKey(kid) {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' };
  const pub = { kty: jwk.kty, n: jwk.n, e: jwk.e, kid, use: 'sig', alg: 'RS256' };
  return { privateKey, jwk, pub, kid };
}
const k1 = rsaKey('k1');     // the provider's own signing key
const k2 = rsaKey('k2');     // published only after `rotate`
const rogue = rsaKey('rogue'); // never published

const state = { mode: 'normal', rotated: false, name: '', hold: false, auth: 'basic' };

const b64u = (b) => Buffer.from(b).toString('base64url');
function resign(idToken, key, change) {
  const payload = JSON.parse(Buffer.from(idToken.split('.')[1], 'base64url').toString());
  change(payload);
  const head = b64u(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: key.kid }));
  const body = b64u(JSON.stringify(payload));
  const sig = crypto.sign('sha256', Buffer.from(`${head}.${body}`), key.privateKey);
  return `${head}.${body}.${b64u(sig)}`;
}
const now = () => Math.floor(Date.now() / 1000);
const rewrites = {
  'wrong-nonce': (t) => resign(t, k1, (p) => { p.nonce = 'a-nonce-from-another-sign-in'; }),
  'unknown-key': (t) => resign(t, rogue, () => {}),
  expired: (t) => resign(t, k1, (p) => { p.iat = now() - 7200; p.exp = now() - 3600; }),
  'wrong-aud': (t) => resign(t, k1, (p) => { p.aud = 'some-other-client'; delete p.azp; }),
  rotate: (t) => resign(t, k2, () => {}),
};

const SCOPES = 'openid email profile groups';
const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: process.env.CLIENT_SECRET || 'asgard-secret',
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [k1.jwk] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
    groups: ['groups'],
  },
  scopes: ['openid', 'email', 'profile', 'groups'],
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
  async findAccount(ctx, id) {
    const email = id.includes('@') ? id : `${id}@example.com`;
    const local = email.split('@')[0];
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          email,
          email_verified: !id.startsWith('unverified'),
          name: state.name || local,
          preferred_username: local,
          groups: id.startsWith('boss') ? ['asgard-admins'] : ['staff'],
        };
      },
    };
  },
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope(SCOPES);
    await grant.save();
    return grant;
  },
});

provider.use(async (ctx, next) => {
  if (ctx.path === '/__control') {
    const q = ctx.query;
    if (q.mode) {
      if (q.mode !== 'normal' && !rewrites[q.mode]) ctx.throw(400, `unknown mode ${q.mode}`);
      state.mode = q.mode;
      if (q.mode === 'rotate') state.rotated = true;
    }
    if (q.name !== undefined) state.name = q.name;
    if (q.hold !== undefined) state.hold = q.hold === '1';
    if (q.auth !== undefined) state.auth = q.auth === 'post' ? 'post' : 'basic';
    ctx.body = { ...state };
    return;
  }
  if (ctx.path === '/token' && ctx.method === 'POST' && state.auth === 'post') {
    if (ctx.get('authorization')) {
      console.log('idp: refused client_secret_basic (post-only client)');
      ctx.status = 401;
      ctx.body = { error: 'invalid_client', error_description: 'this client must use client_secret_post' };
      return;
    }
    // The registered client uses Basic: move the posted credentials into the header for oidc-provider.
    const chunks = [];
    for await (const c of ctx.req) chunks.push(c);
    const { client_id: id, client_secret: secret, ...rest } = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
    if (id && secret) {
      ctx.req.headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
      console.log('idp: accepted client_secret_post');
    }
    ctx.request.body = rest;
  }
  await next();
  const location = ctx.response.get('Location');
  if (state.hold && location && location.startsWith(redirectUri)) {
    ctx.remove('Location');
    ctx.status = 200;
    ctx.type = 'html';
    const href = location.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;');
    ctx.body = `<!doctype html><title>held</title><a id="callback" href="${href}">continue to the client</a>`;
  }
  if (ctx.path === '/jwks' && state.rotated && ctx.body?.keys) {
    ctx.body = { keys: [...ctx.body.keys, k2.pub] };
  }
  if (ctx.path === '/token' && ctx.body?.id_token && rewrites[state.mode]) {
    ctx.body = { ...ctx.body, id_token: rewrites[state.mode](ctx.body.id_token) };
    console.log(`idp: token response rewritten (${state.mode})`);
  }
});

provider.on('server_error', (ctx, err) => console.error('idp server_error', err));
provider.on('grant.error', (ctx, err) => console.error('idp grant.error', err.message, err.error_description || ''));

provider.listen(port, '127.0.0.1', () => {
  console.log(`idp ready ${issuer} (client ${clientId}, redirect ${redirectUri})`);
});
