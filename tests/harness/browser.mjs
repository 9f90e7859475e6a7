// Headless Debian Chromium driven by playwright-core, for Asgard's browser tests.
// Needs: apt-get install -y chromium (.ci/run does it); playwright-core is pinned in the repo-root package.json.
// Never run `npx playwright install`: it downloads a browser, which this machine cannot fetch.
// Usage: node tests/harness/browser.mjs [/tmp/shot.png]   (self-test: click a button, take a screenshot)
//        import { launch } from '../harness/browser.mjs'   (from a browser test)
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export async function launch() {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chromium-profile-'));
  const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'];
  // launchPersistentContext is how playwright takes a --user-data-dir (passing it in args is rejected).
  const ctx = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args, viewport: { width: 1000, height: 700 },
  });
  return { ctx, close: async () => { await ctx.close(); fs.rmSync(userDataDir, { recursive: true, force: true }); } };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const shot = process.argv[2] || '/tmp/browser-smoke.png';
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><title>smoke</title><h1>Browser smoke</h1>
      <button id="b" onclick="document.getElementById('out').textContent='clicked!'">Click me</button>
      <p id="out">not clicked</p>`);
  }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${server.address().port}/`;
  const t0 = Date.now();
  const { ctx, close } = await launch();
  const page = ctx.pages()[0] ?? await ctx.newPage();
  await page.goto(url);
  await page.click('#b');
  const text = await page.textContent('#out');
  await page.screenshot({ path: shot });
  console.log(JSON.stringify({ url, text, shot, browser: ctx.browser()?.version() ?? 'persistent', ms: Date.now() - t0 }));
  await close();
  server.close();
  if (text !== 'clicked!') process.exit(1);
}
