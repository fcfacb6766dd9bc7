import type { Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { createGroup, forgiveOfflineErrors, hydrated, live, message, openDirectChat, openThread, send, signIn, unique } from './helpers';

/** Makes a WASM chunk's file fail to load, as offline, until the returned function is called. */
async function blockChunk(page: Page, name: string): Promise<() => void> {
  let blocked = true;
  await page.route(new RegExp(`/pkg/split_${name}[^/]*\\.wasm$`), (route) =>
    blocked ? route.abort('internetdisconnected') : route.continue(),
  );
  return () => {
    blocked = false;
  };
}

/** The dialog that stands in for one whose chunk could not load: it says so, and closes. */
async function closeChunkErrorDialog(page: Page) {
  const failed = page.getByRole('alertdialog');
  await expect(failed).toContainText('could not load');
  await failed.getByRole('button', { name: 'Close' }).click();
  await expect(failed).toBeHidden();
}

// The notification drawer and the new-conversation dialog are WASM chunks
// fetched on first use. Opening either for the first time with no network
// says so and leaves the page working (a failed load used to panic, which
// aborts the whole WASM module); back online, both open.
test('opening the drawer and the new-chat dialog for the first time offline says so, and both open once back online', async ({ page, context, consoleErrors }) => {
  await signIn(page, 'dave@acme.test');
  await live(page);

  await context.setOffline(true);
  await page.locator('#bell').click();
  const drawer = page.getByRole('dialog', { name: 'Notifications' });
  await expect(drawer.getByRole('alert')).toContainText('could not load');
  await drawer.getByRole('button', { name: 'Close notifications' }).click();
  await expect(drawer).toBeHidden();

  await page.getByRole('button', { name: 'New chat' }).click();
  await closeChunkErrorDialog(page);

  // The failed fetches are logged, as they should be, and nothing else is:
  // no panic, no trap.
  forgiveOfflineErrors(consoleErrors);

  await context.setOffline(false);
  await live(page);
  await page.locator('#bell').click();
  await expect(drawer.getByRole('heading', { name: 'Notifications' })).toBeFocused();
  await expect(drawer.getByRole('button', { name: 'Mark all read' })).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(drawer).toBeHidden();

  await openDirectChat(page, 'Bob Baker');
  const text = unique('after-offline');
  await send(page, text);
  await expect(message(page, text)).toBeVisible();

  // Settings, a lazy route, is a full page load from the header (a routed
  // navigation offline would abort the WASM in Leptos's loader).
  await page.getByRole('link', { name: 'Settings' }).click();
  await expect(page).toHaveURL(/\/settings$/);
  await expect(page.getByRole('heading', { name: 'Settings' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Notifications', level: 2, exact: true })).toBeVisible();
});

// The thread is a chunk too: a page opened at /c/{id} preloads it beside the
// main module, and the conversation list fetches it once live. When that
// fetch fails, opening a conversation says so in the thread pane, the rest of
// the page keeps working, and "Try again" opens it once the chunk loads.
test('a conversation opened while the thread code cannot be fetched says so, and opens on "Try again"', async ({ page, consoleErrors }) => {
  const unblock = await blockChunk(page, 'thread_page');
  await signIn(page, 'dave@acme.test');
  await live(page);

  const path = await openDirectChat(page, 'Bob Baker');
  const pane = page.getByRole('main');
  await expect(pane.getByRole('alert')).toContainText('could not load');
  await page.locator('#bell').click();
  await expect(page.getByRole('dialog', { name: 'Notifications' })).toBeVisible();
  await page.keyboard.press('Escape');
  forgiveOfflineErrors(consoleErrors);

  unblock();
  await pane.getByRole('button', { name: 'Try again' }).click();
  const text = unique('after-retry');
  await send(page, text);
  await expect(message(page, text)).toBeVisible();

  // The server names the chunk for a thread page's preload, and not for the list.
  const threadHtml = await (await page.request.get(path)).text();
  expect(threadHtml).toContain('split_thread_page');
  const listHtml = await (await page.request.get('/')).text();
  expect(listHtml).not.toContain('split_thread_page');
});

// The group info dialog is a chunk as well, loaded from the thread's.
test('opening group info while its code cannot be fetched says so, and it opens once it can', async ({ page, consoleErrors }) => {
  const unblock = await blockChunk(page, 'group_info_dialog');
  // Dave and Erin: people whose lists no other spec filters by name.
  await signIn(page, 'dave@acme.test');
  const path = await createGroup(page, unique('Chunk check'), ['Erin Evans']);
  // The list's preview of it ("Dave Diaz created the group “…”") is long and
  // has no room to break: it is cut, and the page never scrolls sideways.
  await page.goto('/');
  await live(page);
  const sideways = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(sideways).toBe(0);
  await openThread(page, path);

  await page.getByRole('button', { name: 'Group info' }).click();
  await closeChunkErrorDialog(page);
  forgiveOfflineErrors(consoleErrors);

  unblock();
  await page.getByRole('button', { name: 'Group info' }).click();
  const info = page.getByRole('dialog', { name: 'Group info' });
  await expect(info.getByRole('list', { name: 'Members' }).getByTestId('member')).toHaveCount(2);
});

// A page says it is hydrated (html[data-hydrated]) only once its lazily
// loaded route is too. It used to say so as soon as the app's shell was, with
// the route's chunk still on its way: a key name typed then was emptied when
// the chunk arrived, or the form was posted natively with nothing in it.
test('a page is marked hydrated only once its lazy route is, so a form filled in then works', async ({ page }) => {
  await signIn(page, 'alice@acme.test');
  await page.route(/\/pkg\/split___settings_route_view[^/]*\.wasm$/, async (route) => {
    await new Promise((arrived) => setTimeout(arrived, 1500));
    await route.continue();
  });
  await page.goto('/settings');
  await hydrated(page);
  const keyName = unique('Typed at once');
  await page.getByLabel('New key for').fill(keyName);
  await page.getByRole('button', { name: 'Create key' }).click();
  await expect(page.getByTestId('new-api-key')).toHaveText(/^crmk_/);
  await expect(page.getByRole('row').filter({ hasText: keyName }).locator('.last-used')).toHaveText('never');
  await expect(page).toHaveURL(/\/settings$/);
});

// The build precompresses the site (cargo-leptos's --precompress) and the
// server sends the .br or .gz file the browser accepts: a phone downloads
// about a third of the WASM's size.
test('the WASM modules are served compressed, brotli or gzip as the browser accepts', async ({ page }) => {
  for (const file of ['/pkg/crm-chat.wasm', '/pkg/split_thread_page.wasm']) {
    const raw = await page.request.get(file, { headers: { 'accept-encoding': 'identity' } });
    expect(raw.headers()['content-encoding']).toBeUndefined();
    const size = (await raw.body()).length;
    for (const encoding of ['br', 'gzip']) {
      const compressed = await page.request.get(file, { headers: { 'accept-encoding': encoding } });
      expect(compressed.ok()).toBe(true);
      expect(compressed.headers()['content-encoding']).toBe(encoding);
      expect(Number(compressed.headers()['content-length'])).toBeLessThan(size / 2);
      // Decoded, it is the same module.
      expect((await compressed.body()).length).toBe(size);
    }
  }
});

// The code keeps its file names from one build to the next, so the browser
// must ask before reusing it: otherwise, after a deploy, it could run the old
// WASM against the new server's pages for hours. Asking costs a 304.
test('the code is revalidated on every load, and an unchanged file comes back as a bodiless 304', async ({ page }) => {
  for (const file of ['/pkg/crm-chat.js', '/pkg/crm-chat.wasm', '/pkg/split_thread_page.wasm']) {
    const first = await page.request.get(file, { headers: { 'accept-encoding': 'br' } });
    expect(first.ok()).toBe(true);
    expect(first.headers()['cache-control']).toBe('no-cache');
    const lastModified = first.headers()['last-modified'];
    expect(lastModified).toBeTruthy();
    const again = await page.request.get(file, {
      headers: { 'accept-encoding': 'br', 'if-modified-since': lastModified },
    });
    expect(again.status()).toBe(304);
    expect((await again.body()).length).toBe(0);
  }
});
