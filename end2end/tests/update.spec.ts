import type { Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { auditPart, hydrated, live, openDirectChat, signIn, unique } from './helpers';
import { chromium } from '../chromium';

// A deploy while a page is open. The server in this run is the "new" build;
// a page from the "old" one is this server's page with its code's build path
// (`/pkg/<build id>/`) and its build `<meta>` renamed to a build the server
// does not serve. Such a page's code is what browsers keep from before the
// deploy: the test hands it the files the page had already loaded (as the
// browser's cache would) and lets every other request for the old build reach
// the real server, which answers 404 as it does for any build but its own.

const OLD_BUILD = '0000000000000000';

// Chromium's Local Network Access checks block a socket to 127.0.0.1 from a
// page the test answered itself (such a page has no address space Chromium
// knows); a page the server sent is on 127.0.0.1 itself and is not checked.
test.use({
  launchOptions: { ...chromium, args: [...chromium.args, '--disable-features=LocalNetworkAccessChecks'] },
});

function buildOf(page: Page) {
  return page.locator('meta[name="crm-chat-build"]').getAttribute('content');
}

/**
 * The next page load comes from the old build. Its code under the old path is
 * served from the browser's "cache" (this build's files), except files that
 * match `notCached`, which go to the server.
 */
async function nextLoadIsFromTheOldBuild(page: Page, build: string, notCached?: RegExp) {
  let rewrites = 1;
  await page.route(
    (url) => !url.pathname.startsWith('/pkg/') && !url.pathname.startsWith('/api/'),
    async (route) => {
      if (!route.request().isNavigationRequest() || rewrites === 0) return route.fallback();
      rewrites -= 1;
      const response = await route.fetch();
      const html = (await response.text())
        .replaceAll(`pkg/${build}`, `pkg/${OLD_BUILD}`)
        .replace(`name="crm-chat-build" content="${build}"`, `name="crm-chat-build" content="${OLD_BUILD}"`);
      await route.fulfill({ response, body: html });
    },
  );
  await page.route(`**/pkg/${OLD_BUILD}/**`, async (route) => {
    const url = new URL(route.request().url());
    if (notCached?.test(url.pathname)) return route.continue();
    url.pathname = url.pathname.replace(`/pkg/${OLD_BUILD}/`, `/pkg/${build}/`);
    const response = await route.fetch({ url: url.href });
    // The body comes decoded: send it without the encoding it came in.
    const headers = { ...response.headers() };
    delete headers['content-encoding'];
    delete headers['content-length'];
    await route.fulfill({ status: response.status(), headers, body: await response.body() });
  });
}

test('a page from before a deploy says crm-chat was updated, and Reload brings the new version with the draft kept', async ({ page }) => {
  await signIn(page, 'dave@acme.test');
  const build = await buildOf(page);
  expect(build, 'a release server names its build').toMatch(/^[0-9a-f]{16}$/);
  const path = await openDirectChat(page, 'Bob Baker');
  const bar = page.getByRole('status').filter({ hasText: 'crm-chat has been updated.' });
  await expect(bar).toHaveCount(0);

  await nextLoadIsFromTheOldBuild(page, build!);
  await page.goto(path);
  await hydrated(page);
  await live(page);
  expect(await buildOf(page)).toBe(OLD_BUILD);
  await expect(bar).toBeVisible();
  await auditPart(page, '.update-bar');

  const draft = unique('draft-across-the-update');
  await page.getByLabel('Message', { exact: true }).fill(draft);
  await bar.getByRole('button', { name: 'Reload' }).click();
  await expect(page.locator('meta[name="crm-chat-build"]')).toHaveAttribute('content', build!);
  await hydrated(page);
  await live(page);
  await expect(page).toHaveURL(new RegExp(`${path}$`));
  await expect(page.getByLabel('Message', { exact: true })).toHaveValue(draft);
  await expect(bar).toHaveCount(0);
});

test('after a deploy, opening a conversation whose code the server no longer has reloads into the new version', async ({ page, consoleErrors }) => {
  await signIn(page, 'dave@acme.test');
  const build = await buildOf(page);
  const path = await openDirectChat(page, 'Bob Baker');

  // The old page has not loaded the thread's chunk; the server has it only
  // under its own build's path.
  await nextLoadIsFromTheOldBuild(page, build!, /split_thread_page/);
  await page.goto('/');
  await hydrated(page);
  await live(page);
  expect(await buildOf(page)).toBe(OLD_BUILD);

  await page.getByTestId('conversation').filter({ hasText: 'Bob Baker' }).first().click();
  await expect(page.locator('meta[name="crm-chat-build"]')).toHaveAttribute('content', build!);
  await expect(page).toHaveURL(new RegExp(`${path}$`));
  await hydrated(page);
  await live(page);
  await expect(page.getByLabel('Message', { exact: true })).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: 'crm-chat has been updated.' })).toHaveCount(0);

  forgiveMissingChunks(consoleErrors);
});

test('a page that already reloaded for the new build and still lacks its code offers Reload rather than reloading again', async ({ page, consoleErrors }) => {
  await signIn(page, 'dave@acme.test');
  const build = await buildOf(page);
  const path = await openDirectChat(page, 'Bob Baker');
  // As if a load balancer had sent the reload to a node still on the old build.
  await page.evaluate((build) => sessionStorage.setItem('crm-chat.reloaded-for', build), build!);

  await nextLoadIsFromTheOldBuild(page, build!, /split_(thread_page|new_conversation_dialog)/);
  await page.goto('/');
  await hydrated(page);
  await live(page);

  // A dialog whose code is gone says why, and offers the reload.
  await page.getByRole('button', { name: 'New chat' }).click();
  const dialog = page.getByRole('alertdialog');
  await expect(dialog).toContainText('crm-chat has been updated since this page was opened');
  await expect(dialog.getByRole('button', { name: 'Reload' })).toBeVisible();
  await dialog.getByRole('button', { name: 'Close' }).click();
  await expect(dialog).toBeHidden();

  await page.getByTestId('conversation').filter({ hasText: 'Bob Baker' }).first().click();
  await expect(page).toHaveURL(new RegExp(`${path}$`));
  const pane = page.getByRole('main');
  await expect(pane.getByRole('alert')).toContainText('crm-chat has been updated since this page was opened');
  // "Try again" would only fetch the missing file again.
  await expect(pane.getByRole('button', { name: 'Try again' })).toHaveCount(0);
  expect(await buildOf(page)).toBe(OLD_BUILD);

  await pane.getByRole('button', { name: 'Reload' }).click();
  await expect(page.locator('meta[name="crm-chat-build"]')).toHaveAttribute('content', build!);
  await hydrated(page);
  await live(page);
  await expect(page.getByLabel('Message', { exact: true })).toBeVisible();
  forgiveMissingChunks(consoleErrors);
});

/**
 * The old build's chunks were 404s from the server (which the fixture
 * forgives), and WebAssembly said so when the split loader compiled the
 * answer: forgives those, and nothing else.
 */
function forgiveMissingChunks(consoleErrors: string[]) {
  const missing = /Failed to execute 'compile' on 'WebAssembly': HTTP status code is not ok/;
  const unexpected = consoleErrors.filter((e) => !missing.test(e));
  consoleErrors.splice(0, consoleErrors.length, ...unexpected);
}
