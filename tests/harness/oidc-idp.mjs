// Minimal standalone OpenID Connect IdP for Asgard SSO tests, built on panva's oidc-provider (v9).
// oidc-provider is pinned in the repo-root package.json (tests/harness/npm-deps.sh installs it).
// Run:  IDP_PORT=$(free_port) APP_PORT=<asgard port> node tests/harness/oidc-idp.mjs   (prints a "ready" line)
// Env:
//   IDP_PORT        port of this IdP on 127.0.0.1           (default 19000)
//   APP_PORT        port of the app (for the redirect URI)     (default 18090)
//   REDIRECT_URIS   comma-separated list, overrides APP_PORT   (default http://127.0.0.1:$APP_PORT/api/auth/oidc/callback)
//   CLIENT_ID / CLIENT_SECRET                                  (default asgard / asgard-secret)
//   SKIP_CONSENT=0  show the dev consent page ("Continue") after login (default: consent is auto-granted)
// Login page (devInteractions): any login + any password is accepted. The login becomes the `sub`;
// the email claim is the login itself if it contains "@", else "<login>@example.com".
import Provider from 'oidc-provider';

const port = Number(process.env.IDP_PORT || 19000);
const appPort = Number(process.env.APP_PORT || 18090);
const issuer = `http://127.0.0.1:${port}`;
const redirectUris = (process.env.REDIRECT_URIS || `http://127.0.0.1:${appPort}/api/auth/oidc/callback`).split(',');
const skipConsent = process.env.SKIP_CONSENT !== '0';
const SCOPES = 'openid email profile';

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.CLIENT_ID || 'asgard',
    client_secret: process.env.CLIENT_SECRET || 'asgard-secret',
    redirect_uris: redirectUris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic', // client_secret_post also accepted below
  }],
  clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  scopes: ['openid', 'email', 'profile', 'offline_access'],
  features: { devInteractions: { enabled: true } },
  // PKCE is optional for confidential clients (default policy); a client that sends it is verified.
  async findAccount(ctx, id) {
    const email = id.includes('@') ? id : `${id}@example.com`;
    return {
      accountId: id,
      async claims(use, scope) {
        return { sub: id, email, email_verified: true, name: id.split('@')[0] };
      },
    };
  },
  // First-party style: auto-grant the requested scopes so only the login page is shown.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    if (!skipConsent) return undefined;
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope(SCOPES);
    await grant.save();
    return grant;
  },
});

provider.on('server_error', (ctx, err) => console.error('server_error', err));
provider.on('grant.error', (ctx, err) => console.error('grant.error', err.message, err.error_description || ''));

provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider ${issuer} ready; discovery: ${issuer}/.well-known/openid-configuration; redirect_uris=${redirectUris.join(',')}`);
});

for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
