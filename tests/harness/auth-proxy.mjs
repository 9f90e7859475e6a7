// Tiny streaming reverse proxy that adds `Authorization: Bearer <token>` to every request.
// Used because `@modelcontextprotocol/conformance server` cannot send headers of its own.
// Usage: node tests/harness/auth-proxy.mjs <listenPort> <targetOrigin> <token>
//   e.g. node tests/harness/auth-proxy.mjs 18081 http://127.0.0.1:18080 asg_…
// Listens on 127.0.0.1 only; streaming (SSE) bodies are piped through.
// Host/Origin: a loopback name pointing at this proxy (127.0.0.1/localhost/[::1] with the proxy's port) is
// rewritten to the same name with the TARGET's port, so the server sees what a direct client would send
// (a DNS-rebinding guard may compare host:port). Any other Host/Origin (e.g. evil.example.com, sent by the
// conformance scenario dns-rebinding-protection) is forwarded unchanged, so the server must reject it.
import http from 'node:http';

const [listenPort, target, token] = process.argv.slice(2);
if (!listenPort || !target || !token) {
  console.error('usage: auth-proxy.mjs <listenPort> <targetOrigin> <token>');
  process.exit(2);
}
const t = new URL(target);
const agent = new http.Agent({ keepAlive: true });
const LOOPBACK = /^(127\.0\.0\.1|localhost|\[::1\])$/i;
// "name:port" of this proxy -> "name:targetPort"; anything else unchanged.
function mapHost(h) {
  const m = /^(.*):(\d+)$/.exec(h ?? '');
  return m && LOOPBACK.test(m[1]) && m[2] === String(listenPort) ? `${m[1]}:${t.port}` : h;
}
function mapOrigin(o) {
  try {
    const u = new URL(o);
    if (u.protocol !== 'http:' || u.pathname !== '/' || u.search) return o;
    return `http://${mapHost(u.host)}`;
  } catch { return o; }
}
const server = http.createServer((req, res) => {
  const headers = { ...req.headers, authorization: `Bearer ${token}` };
  if (headers.host) headers.host = mapHost(headers.host);
  if (headers.origin) headers.origin = mapOrigin(headers.origin);
  const up = http.request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers, agent }, (r) => {
    res.writeHead(r.statusCode, r.headers);
    res.flushHeaders();
    r.pipe(res);
  });
  up.on('error', (e) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`auth-proxy: upstream error: ${e}`);
  });
  req.pipe(up);
  res.on('close', () => up.destroy());
});
server.listen(Number(listenPort), '127.0.0.1', () => console.error(`auth-proxy 127.0.0.1:${listenPort} -> ${target}`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => { server.close(); process.exit(0); });
