import type { Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { auditPart, holdFirstAnswer, landHeldAnswer, live, message, openDirectChat, openThread, screenshot, send, signIn, unique } from './helpers';

/** Opens the "⋯" menu at the top of the open conversation and picks an item. */
async function choose(page: Page, item: 'Pin to top' | 'Mute' | 'Mark as unread') {
  await page.getByRole('button', { name: 'Conversation options' }).click();
  const role = item === 'Mark as unread' ? 'menuitem' : 'menuitemcheckbox';
  await page.getByRole(role, { name: item }).click();
  await expect(page.getByRole('menu')).toHaveCount(0);
}

/** Whether a checkable item of the menu is checked, read with the menu open, which is then closed. */
async function checked(page: Page, item: 'Pin to top' | 'Mute') {
  await page.getByRole('button', { name: 'Conversation options' }).click();
  const value = await page.getByRole('menuitemcheckbox', { name: item }).getAttribute('aria-checked');
  await page.keyboard.press('Escape');
  return value;
}

test('a pinned conversation stays at the top of my list, in every tab and after a reload, until I unpin it', async ({ page, newPerson }, testInfo) => {
  await signIn(page, 'heidi@acme.test');
  const withBob = await openDirectChat(page, 'Bob Baker');
  await send(page, unique('Bob, the Initech quote'));
  await openDirectChat(page, 'Dave Diaz');
  await send(page, unique('Dave, lunch?'));

  // Heidi's second tab shows the list; the newest conversation is on top.
  const list = await page.context().newPage();
  await list.goto('/');
  await live(list);
  const rows = list.getByTestId('conversation');
  await expect(rows.first()).toContainText('Dave Diaz');
  await expect(rows.filter({ hasText: 'Bob Baker' }).getByTestId('pinned')).toHaveCount(0);

  await openThread(page, withBob);
  expect(await checked(page, 'Pin to top')).toBe('false');
  await choose(page, 'Pin to top');
  await expect.poll(() => checked(page, 'Pin to top')).toBe('true');

  // The other tab moves Bob to the top at once, marked as pinned.
  await expect(rows.first()).toContainText('Bob Baker');
  await expect(rows.first().getByTestId('pinned')).toBeVisible();
  await expect(rows.first()).toHaveAttribute('aria-label', /^Bob Baker, pinned/);

  // A new message elsewhere does not lift its conversation above the pin.
  const dave = await newPerson();
  await signIn(dave.page, 'dave@acme.test');
  await openDirectChat(dave.page, 'Heidi Hall');
  const news = unique('Heidi, news from Globex');
  await send(dave.page, news);
  await expect(rows.filter({ hasText: 'Dave Diaz' })).toContainText(news);
  await expect(rows.first()).toContainText('Bob Baker');
  await expect(rows.nth(1)).toContainText('Dave Diaz');
  await auditPart(list, 'aside.sidebar');
  await screenshot(list, testInfo, 'pinned');

  // It is kept on the server: a reload shows the same order.
  await list.reload();
  await live(list);
  await expect(rows.first()).toContainText('Bob Baker');
  await expect(rows.first().getByTestId('pinned')).toBeVisible();

  // Unpinning puts it back in order of activity, in both tabs.
  await choose(page, 'Pin to top');
  await expect(rows.first()).toContainText('Dave Diaz');
  await expect(rows.filter({ hasText: 'Bob Baker' }).getByTestId('pinned')).toHaveCount(0);
  await page.reload();
  await live(page);
  expect(await checked(page, 'Pin to top')).toBe('false');
});

test('the conversation menu works from the keyboard and closes on Escape, Tab or a click elsewhere', async ({ page }, testInfo) => {
  await signIn(page, 'heidi@acme.test');
  await openDirectChat(page, 'Bob Baker');
  const button = page.getByRole('button', { name: 'Conversation options' });
  const menu = page.getByRole('menu', { name: 'Conversation options' });
  const items = menu.locator('[role^=menuitem]');
  await expect(button).toHaveAttribute('aria-expanded', 'false');

  await button.focus();
  await page.keyboard.press('Enter');
  await expect(button).toHaveAttribute('aria-expanded', 'true');
  await expect(button).toHaveAttribute('aria-controls', /^thread-menu-\d+$/);
  await expect(items).toHaveText(['Pin to top', 'Mute', 'Mark as unread']);
  await expect(items.nth(0)).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await expect(items.nth(1)).toBeFocused();
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('ArrowUp');
  await expect(items.nth(2)).toBeFocused();
  await page.keyboard.press('Home');
  await expect(items.nth(0)).toBeFocused();
  await page.keyboard.press('End');
  await expect(items.nth(2)).toBeFocused();
  await auditPart(page, '.thread-head');
  await screenshot(page, testInfo, 'conversation-menu');

  // Escape closes it and gives the focus back to the button.
  await page.keyboard.press('Escape');
  await expect(menu).toHaveCount(0);
  await expect(button).toBeFocused();
  await expect(button).toHaveAttribute('aria-expanded', 'false');

  // Space opens it too, and Tab leaves it closed.
  await page.keyboard.press(' ');
  await expect(items.nth(0)).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(menu).toHaveCount(0);

  // A click anywhere else closes it.
  await button.click();
  await expect(menu).toBeVisible();
  await page.getByTestId('messages').click({ position: { x: 10, y: 10 } });
  await expect(menu).toHaveCount(0);
});

test('muting a conversation in one tab marks its row as muted in my other tabs', async ({ page }) => {
  await signIn(page, 'heidi@acme.test');
  const withErin = await openDirectChat(page, 'Erin');
  await send(page, unique('Erin, the Hooli renewal'));
  const list = await page.context().newPage();
  await list.goto('/');
  await live(list);
  const row = list.getByTestId('conversation').filter({ hasText: 'Erin' });
  const mutedMark = row.locator('.muted-icon');
  await expect(mutedMark).toHaveCount(0);

  await openThread(page, withErin);
  await choose(page, 'Mute');
  await expect(mutedMark).toBeVisible();
  expect(await checked(page, 'Mute')).toBe('true');
  await choose(page, 'Mute');
  await expect(mutedMark).toHaveCount(0);
});

test('marking a conversation as unread goes back to the list on a phone, stays in it on a desktop, and keeps it marked until I open it again', async ({ page }, testInfo) => {
  const onePane = testInfo.project.name === 'mobile';
  await signIn(page, 'heidi@acme.test');
  const withFrank = await openDirectChat(page, 'Frank');
  const text = unique('Frank, the Umbrella contract');
  await send(page, text);
  const other = await page.context().newPage();
  await other.goto('/');
  await live(other);
  const row = (p: Page) => p.getByTestId('conversation').filter({ hasText: 'Frank Fisher' });
  await expect(row(other).getByTestId('marked-unread')).toHaveCount(0);

  await choose(page, 'Mark as unread');
  await expect(page).toHaveURL(onePane ? /\/$/ : new RegExp(`${withFrank}$`));
  for (const p of [page, other]) {
    await expect(row(p).getByTestId('marked-unread')).toBeVisible();
    await expect(row(p)).toHaveClass(/unread/);
    await expect(row(p)).toHaveAttribute('aria-label', /, marked as unread$/);
  }
  await auditPart(page, 'aside.sidebar');
  await screenshot(page, testInfo, 'marked-unread');

  // It is kept: a reload still shows the mark.
  await other.reload();
  await live(other);
  await expect(row(other).getByTestId('marked-unread')).toBeVisible();

  // Opening it clears the mark, here and in the other tab (on a desktop,
  // after leaving it: reading on while it stays open kept the mark).
  if (!onePane) {
    await expect(row(page).getByTestId('marked-unread')).toBeVisible();
    await page.goto('/');
    await live(page);
  }
  await row(page).click();
  await expect(page).toHaveURL(new RegExp(`${withFrank}$`));
  await live(page);
  for (const p of [page, other]) await expect(row(p).getByTestId('marked-unread')).toHaveCount(0);
  await expect(row(other)).not.toHaveClass(/unread/);
});

test('each row of my list has the same menu, from a pointer, a long press or the keyboard, and using it does not open the conversation', async ({ page }, testInfo) => {
  await signIn(page, 'dave@acme.test');
  await openDirectChat(page, 'Erin Evans');
  await send(page, unique('Erin, the Q3 numbers'));
  await page.goto('/');
  await live(page);
  const row = page.getByTestId('conversation').filter({ hasText: 'Erin Evans' });
  const menu = page.getByRole('menu', { name: 'Options for Erin Evans' });
  const item = (name: 'Pin to top' | 'Mute') => menu.getByRole('menuitemcheckbox', { name });

  // A pointer: the row's button, which shows on hover. A phone has no
  // hover: a long press opens the menu (Chromium fires it as a right click).
  if (testInfo.project.name === 'desktop') {
    await row.hover();
    await page.getByRole('button', { name: 'Options for Erin Evans' }).click();
  } else {
    // The button takes no taps meant for the row (it is a clipped pixel),
    // but a screen reader reaches it by swiping and presses it.
    const button = page.getByRole('button', { name: 'Options for Erin Evans' });
    expect((await button.boundingBox())?.width).toBeLessThanOrEqual(1);
    await button.evaluate((b: HTMLElement) => b.click());
    await expect(item('Pin to top')).toBeFocused();
    await page.keyboard.press('Escape');
    await expect(menu).toHaveCount(0);
    await row.click({ button: 'right' });
  }
  await expect(item('Pin to top')).toBeFocused();
  await auditPart(page, 'aside.sidebar');
  await screenshot(page, testInfo, 'row-menu');
  await item('Pin to top').click();
  await expect(menu).toHaveCount(0);
  await expect(page.getByTestId('conversation').first()).toContainText('Erin Evans');
  await expect(row.getByTestId('pinned')).toBeVisible();
  await expect(page).toHaveURL(/\/$/);

  // The keyboard: Shift+F10 on the row, as for any context menu; Escape
  // gives the focus back to the row.
  await row.focus();
  await page.keyboard.press('Shift+F10');
  await expect(item('Pin to top')).toBeFocused();
  await expect(item('Pin to top')).toHaveAttribute('aria-checked', 'true');
  await page.keyboard.press('Escape');
  await expect(menu).toHaveCount(0);
  await expect(row).toBeFocused();
  await page.keyboard.press('Shift+F10');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await expect(row.locator('.muted-icon')).toBeVisible();
  await expect(row).toBeFocused();

  // Mark as unread from the list stays on the list; on a row that is
  // marked, the same place says Mark as read.
  await row.click({ button: 'right' });
  await menu.getByRole('menuitem', { name: 'Mark as unread' }).click();
  await expect(row.getByTestId('marked-unread')).toBeVisible();
  await expect(page).toHaveURL(/\/$/);
  await row.click({ button: 'right' });
  await menu.getByRole('menuitem', { name: 'Mark as read' }).click();
  await expect(row.getByTestId('marked-unread')).toHaveCount(0);
  await expect(page).toHaveURL(/\/$/);

  // What the browser's own menu offered on the row, a link: a new tab.
  await row.click({ button: 'right' });
  const [tab] = await Promise.all([
    page.context().waitForEvent('page'),
    menu.getByRole('menuitem', { name: 'Open in new tab' }).click(),
  ]);
  await expect(tab).toHaveURL(new RegExp(`${await row.getAttribute('href')}$`));
  await expect(tab.locator('.thread-head')).toContainText('Erin Evans');
  await tab.close();
  await expect(menu).toHaveCount(0);
  await expect(page).toHaveURL(/\/$/);

  // Back as it was, for the next run: unpinned and unmuted.
  for (const name of ['Pin to top', 'Mute'] as const) {
    await row.click({ button: 'right' });
    await item(name).click();
  }
  await expect(row.getByTestId('pinned')).toHaveCount(0);
  await expect(row.locator('.muted-icon')).toHaveCount(0);
});

test("marking Erin's message unread counts the conversation unread from it, for me alone, and brings me back to it", async ({ page, newPerson }, testInfo) => {
  const onePane = testInfo.project.name === 'mobile';
  await signIn(page, 'dave@acme.test');
  const erin = await newPerson();
  await signIn(erin.page, 'erin@acme.test');
  const withDave = await openDirectChat(erin.page, 'Dave Diaz');
  const words = [unique('the Q3 forecast'), unique('the pipeline review'), unique('and the renewal')];
  for (const text of words) await send(erin.page, text);
  await openThread(page, withDave);
  for (const text of words) {
    await expect(message(erin.page, text).getByTestId('ticks')).toHaveAttribute('data-state', 'read');
  }
  const other = await page.context().newPage();
  await other.goto('/');
  await live(other);
  const row = (p: Page) => p.getByTestId('conversation').filter({ hasText: 'Erin Evans' });
  await expect(row(other)).not.toHaveClass(/unread/);

  // My own messages offer no such thing.
  const mine = unique('on it');
  await send(page, mine);
  await message(page, mine).click();
  await expect(message(page, mine).getByRole('button', { name: 'Reply' })).toBeVisible();
  await expect(message(page, mine).getByRole('button', { name: 'Mark unread' })).toHaveCount(0);

  const second = message(page, words[1]);
  await second.click();
  // All of the toolbar is on the screen, a phone's too.
  const bar = (await second.getByRole('toolbar', { name: 'Message actions' }).boundingBox())!;
  expect(bar.x).toBeGreaterThanOrEqual(0);
  expect(bar.x + bar.width).toBeLessThanOrEqual(page.viewportSize()!.width);
  await second.getByRole('button', { name: 'Mark unread' }).click();
  const newLine = page.locator('[data-testid="new-messages-line"] + [data-testid="message"]');
  if (onePane) {
    await expect(page).toHaveURL(/\/$/);
  } else {
    // A desktop stays in the thread, as Slack does, with the line above
    // the marked message.
    await expect(page).toHaveURL(new RegExp(`${withDave}$`));
    await expect(newLine).toContainText(words[1]);
  }
  // The pipeline review and the renewal, in both tabs and after a reload.
  for (const p of [page, other]) await expect(row(p)).toHaveAttribute('aria-label', /, 2 unread/);
  if (!onePane) {
    // Reading on in the open thread keeps them unread: scrolling over them
    // and coming back to the tab read nothing until I leave.
    await message(page, words[2]).scrollIntoViewIfNeeded();
    await other.bringToFront();
    await page.bringToFront();
    // Typing goes out on the same socket after any read would have: once
    // Erin sees it, nothing was read.
    const box = page.getByLabel('Message', { exact: true });
    await box.pressSequentially('ok', { delay: 20 });
    await expect(erin.page.locator(`[data-testid="conversation"][href="${withDave}"]`)).toContainText('Dave Diaz is typing…');
    for (const p of [page, other]) await expect(row(p)).toHaveAttribute('aria-label', /, 2 unread/);
    await box.fill('');
  }
  await screenshot(page, testInfo, 'marked-unread-from-a-message');
  await other.reload();
  await live(other);
  await expect(row(other)).toHaveAttribute('aria-label', /, 2 unread/);
  // Erin still sees all three read: the mark is mine alone.
  for (const text of words) {
    await expect(message(erin.page, text).getByTestId('ticks')).toHaveAttribute('data-state', 'read');
  }

  // Coming back: the "New messages" line is above the marked message, and
  // opening it clears the count in both tabs.
  if (!onePane) {
    await page.goto('/');
    await live(page);
  }
  await row(page).click();
  await expect(page).toHaveURL(new RegExp(`${withDave}$`));
  await live(page);
  await expect(newLine).toContainText(words[1]);
  for (const p of [page, other]) await expect(row(p)).not.toHaveClass(/unread/);
});

test('Mark as read on a row reads its new messages without opening it, and the sender sees them read', async ({ page, newPerson }) => {
  await signIn(page, 'dave@acme.test');
  await page.goto('/');
  await live(page);
  const erin = await newPerson();
  await signIn(erin.page, 'erin@acme.test');
  await openDirectChat(erin.page, 'Dave Diaz');
  const first = unique('Dave, the Q3 forecast');
  const second = unique('and the pipeline review');
  await send(erin.page, first);
  await send(erin.page, second);
  await expect(message(erin.page, second).getByTestId('ticks')).toHaveAttribute('data-state', 'delivered');

  const row = page.getByTestId('conversation').filter({ hasText: 'Erin Evans' });
  await expect(row).toHaveAttribute('aria-label', /, 2 unread/);
  await row.click({ button: 'right' });
  await page.getByRole('menu', { name: 'Options for Erin Evans' }).getByRole('menuitem', { name: 'Mark as read' }).click();
  await expect(row.locator('.badge')).toHaveCount(0);
  await expect(row).not.toHaveClass(/unread/);
  await expect(page).toHaveURL(/\/$/);
  for (const text of [first, second]) {
    await expect(message(erin.page, text).getByTestId('ticks')).toHaveAttribute('data-state', 'read');
  }
  // It is kept: a reload shows nothing unread.
  await page.reload();
  await live(page);
  await expect(row).toHaveAttribute('aria-label', 'Erin Evans');
});

test('a conversation pinned elsewhere while its thread is on its way stays pinned when the thread lands', async ({ page }) => {
  await signIn(page, 'alice@acme.test');
  const path = await openDirectChat(page, 'Heidi Hall');
  const id = Number(path.split('/').pop());
  await page.goto('/');
  await live(page);
  const row = page.locator(`[data-testid="conversation"][href="${path}"]`);
  await expect(row.getByTestId('pinned')).toHaveCount(0);

  // Alice opens the conversation within the page, so the browser fetches
  // its thread, row included. The server reads it unpinned; before the
  // answer arrives, another of her tabs pins it, and the socket says so.
  const url = '**/api/fn/open-thread';
  const held = await holdFirstAnswer(page, url);
  await row.click();
  await held.read;
  const pin = (pinned: boolean) => page.request.post('/api/fn/pin', { data: { conversation_id: id, pinned } });
  expect((await pin(true)).status()).toBe(200);
  await landHeldAnswer(page, url, held);
  await expect(page.locator('.thread-head')).toContainText('Heidi Hall');

  // Back at the list (on a phone the thread hid it), the row is pinned.
  await page.goBack();
  await expect(page).toHaveURL(/\/$/);
  await expect(row.getByTestId('pinned')).toBeVisible();

  // Back as it was, for the next run.
  expect((await pin(false)).status()).toBe(200);
  await expect(row.getByTestId('pinned')).toHaveCount(0);
});
