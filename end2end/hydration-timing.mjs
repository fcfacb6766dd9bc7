// Time to hydration on a throttled network, for one or more builds side by
// side (runs alternate between them, so a noisy neighbour hits all alike).
//
//   BUILDS="before=/tmp/old/server:/tmp/old/site,after=../target/release/server:../target/site" \
//     RUNS=7 node hydration-timing.mjs
//
// CACHE=warm times a returning visit instead: the page is loaded once,
// unthrottled, to fill the browser's cache, and then timed.
//
// Each build is a server binary and its site directory; each gets a fresh
// demo database. For every run it loads the conversation list (/) and a
// thread (/c/{id}) with the cache disabled, on 100 ms RTT and 5 Mbit/s down,
// and reports the time from navigation to the page's data-hydrated mark.
import { chromium } from '@playwright/test';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const builds = (process.env.BUILDS ?? 'current=../target/release/server:../target/site')
  .split(',')
  .map((spec, i) => {
    const [name, paths] = spec.split('=');
    const [bin, site] = paths.split(':');
    return { name, bin, site, port: 3301 + i };
  });
const runs = Number(process.env.RUNS ?? 7);
const warm = process.env.CACHE === 'warm';
const isHydrated = () => document.documentElement.dataset.hydrated === 'true';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

for (const b of builds) {
  b.proc = spawn(b.bin, [], {
    env: { ...process.env, CRM_CHAT_DATA_DIR: mkdtempSync(join(tmpdir(), 'hyd-')), CRM_CHAT_ADDR: `127.0.0.1:${b.port}`,
      CRM_CHAT_SEED_DEMO: 'true', LEPTOS_SITE_ROOT: b.site, RUST_LOG: 'warn', LEPTOS_OUTPUT_NAME: 'crm-chat' },
    stdio: 'inherit',
  });
}
for (const b of builds) {
  for (let tries = 0; ; tries++) {
    const up = await fetch(`http://127.0.0.1:${b.port}/healthz`).then((r) => r.ok, () => false);
    if (up) break;
    if (tries > 300) throw new Error(`${b.name} did not start`);
    await sleep(100);
  }
}
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });

async function setup(b) {
  const context = await browser.newContext({ baseURL: `http://127.0.0.1:${b.port}` });
  const page = await context.newPage();
  await page.goto('/login');
  await page.locator('html[data-hydrated]').waitFor();
  await page.getByLabel('Email').fill('alice@acme.test');
  await page.getByLabel('Password', { exact: true }).fill('crm-chat-demo');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('html[data-link="live"]').waitFor();
  await page.getByRole('button', { name: 'New chat' }).click();
  await page.getByRole('dialog', { name: 'New chat' }).getByLabel('Find a person').fill('Bob');
  await page.getByRole('dialog', { name: 'New chat' }).getByRole('button', { name: /Bob Baker/ }).click();
  await page.waitForURL(/\/c\/\d+$/);
  const path = new URL(page.url()).pathname;
  await page.close();
  return { context, path };
}

async function timeLoad(context, path) {
  if (warm) {
    const first = await context.newPage();
    await first.goto(path);
    await first.waitForFunction(isHydrated, null, { polling: 10, timeout: 60000 });
    await first.close();
  }
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: !warm });
  // A phone on a middling mobile network: 100 ms RTT, 5 Mbit/s down, 1.5 up.
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 100, downloadThroughput: 5e6 / 8, uploadThroughput: 1.5e6 / 8 });
  await page.goto(path, { waitUntil: 'commit' });
  await page.waitForFunction(isHydrated, null, { polling: 10, timeout: 60000 });
  const ms = await page.evaluate(() => performance.now());
  await page.close();
  return ms;
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
for (const b of builds) Object.assign(b, await setup(b), { times: { '/': [], thread: [] } });
for (let i = 0; i < runs; i++) {
  for (const b of i % 2 ? [...builds].reverse() : builds) {
    b.times['/'].push(await timeLoad(b.context, '/'));
    b.times.thread.push(await timeLoad(b.context, b.path));
  }
}
for (const b of builds) {
  console.log(b.name, 'list median', median(b.times['/']).toFixed(0), 'ms', b.times['/'].map((x) => x.toFixed(0)).join(' '));
  console.log(b.name, 'thread median', median(b.times.thread).toFixed(0), 'ms', b.times.thread.map((x) => x.toFixed(0)).join(' '));
}
await browser.close();
for (const b of builds) b.proc.kill();
