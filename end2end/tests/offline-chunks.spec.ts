import type { Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { createGroup, forgiveOfflineErrors, hydrated, live, message, openDirectChat, openThread, send, signIn, unique } from './helpers';

/** Makes a WASM chunk's file fail to load, as offline, until the returned function is called. */
async function blockChunk(page: Page, name: string): Promise<() => void> {
  let blocked = true;
  await page.route(new RegExp(`/split_${name}[^/]*\\.wasm$`), (route) =>
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
  const title = unique('Chunk check');
  const path = await createGroup(page, title, ['Erin Evans']);
  // The list's preview of it names Dave once, as the message does (not
  // "You: Dave Diaz created…"). It is long and has no room to break: it is
  // cut, and the page never scrolls sideways.
  await page.goto('/');
  await live(page);
  await expect(page.getByTestId('conversation').filter({ hasText: title }).locator('.conversation-preview')).toHaveText(
    `Dave Diaz created the group “${title}”`,
  );
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
  await page.route(/\/split___settings_route_view[^/]*\.wasm$/, async (route) => {
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

/** The code a page names: its modulepreload, preload and stylesheet links. */
async function codeNamedBy(page: Page, path: string): Promise<string[]> {
  const html = await (await page.request.get(path)).text();
  return [...new Set([...html.matchAll(/href="(\/pkg\/[^"]+)"/g)].map((m) => m[1]))];
}

// The build precompresses the site (cargo-leptos's --precompress) and the
// server sends the .br or .gz file the browser accepts: a phone downloads
// about a third of the WASM's size.
test('the WASM modules are served compressed, brotli or gzip as the browser accepts', async ({ page }) => {
  const code = await codeNamedBy(page, '/login');
  const modules = [code.find((f) => f.endsWith('/crm-chat.wasm')), code.find((f) => /\/split___login_route_view[^/]*\.wasm$/.test(f))];
  for (const file of modules) {
    expect(file).toBeTruthy();
    const raw = await page.request.get(file!, { headers: { 'accept-encoding': 'identity' } });
    expect(raw.headers()['content-encoding']).toBeUndefined();
    const size = (await raw.body()).length;
    for (const encoding of ['br', 'gzip']) {
      const compressed = await page.request.get(file!, { headers: { 'accept-encoding': encoding } });
      expect(compressed.ok()).toBe(true);
      expect(compressed.headers()['content-encoding']).toBe(encoding);
      expect(Number(compressed.headers()['content-length'])).toBeLessThan(size / 2);
      // Decoded, it is the same module.
      expect((await compressed.body()).length).toBe(size);
    }
  }
});

// The code's files keep their names from one build to the next, so they are
// served under a path that names the build: a browser keeps them for a year
// without asking, and never mixes two builds' modules after a deploy.
test('the code is served under its build\'s path and kept for a year; other paths to it are not found', async ({ page }) => {
  const code = await codeNamedBy(page, '/login');
  // The main module and its JS, the split loader its JS imports, the
  // stylesheet, and the login route's chunks.
  for (const named of ['/crm-chat.js', '/crm-chat.wasm', '/__wasm_split.', '/crm-chat.css', '/split___login_route_view']) {
    expect(code.some((f) => f.includes(named)), named).toBe(true);
  }
  const build = code[0].split('/')[2];
  expect(build).toMatch(/^[0-9a-f]{16}$/);
  for (const file of code) {
    expect(file.startsWith(`/pkg/${build}/`), file).toBe(true);
    const response = await page.request.get(file, { headers: { 'accept-encoding': 'br' } });
    expect(response.ok(), file).toBe(true);
    expect(response.headers()['cache-control']).toBe('public, max-age=31536000, immutable');
  }
  // The settings page names its route's chunk from the same build.
  await signIn(page, 'alice@acme.test');
  const settingsCode = await codeNamedBy(page, '/settings');
  expect(settingsCode.some((f) => f.startsWith(`/pkg/${build}/split___settings_route_view`))).toBe(true);

  // Another build's path, or none, is not found, and the 404 is not kept.
  const name = code[0].split('/').pop();
  for (const elsewhere of [`/pkg/${name}`, `/pkg/0123456789abcdef/${name}`, `/pkg/${build}/no-such-file.wasm`]) {
    const response = await page.request.get(elsewhere);
    expect(response.status(), elsewhere).toBe(404);
    expect(response.headers()['cache-control'] ?? '', elsewhere).not.toContain('max-age');
  }
});

// The conversation menu's items are a chunk, fetched as soon as the page is
// live, so that the menu opens at once, and offline.
test('the conversation menu opens offline once the page is live, and says so if its code could not be fetched', async ({ page, context, consoleErrors }) => {
  const unblock = await blockChunk(page, 'conversation_menu');
  await signIn(page, 'dave@acme.test');
  await live(page);
  const row = page.getByTestId('conversation').first();
  const firstItem = page.getByRole('menuitemcheckbox', { name: 'Pin to top' });

  await row.click({ button: 'right' });
  const failed = page.locator('.conversation-menu.open [role=alert]');
  await expect(failed).toContainText('could not load');
  forgiveOfflineErrors(consoleErrors);
  // A press anywhere else closes it, as it closes the menu.
  await page.getByRole('heading', { name: 'Chats' }).click();
  await expect(failed).toHaveCount(0);
  unblock();
  await row.click({ button: 'right' });
  await expect(firstItem).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(firstItem).toHaveCount(0);

  // A new page fetches it once live; offline afterwards, the menu opens.
  const fetched = page.waitForResponse(/\/split_conversation_menu[^/]*\.wasm$/);
  await page.reload();
  await live(page);
  await fetched;
  await context.setOffline(true);
  await row.click({ button: 'right' });
  await expect(firstItem).toBeFocused();
  await page.keyboard.press('Escape');
  forgiveOfflineErrors(consoleErrors);
  await context.setOffline(false);
});
