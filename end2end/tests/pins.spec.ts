import { test, expect } from './fixtures';
import { auditPart, live, openDirectChat, openThread, screenshot, send, signIn, unique } from './helpers';

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
  const pin = page.getByRole('button', { name: 'Pin to top of the list' });
  await expect(pin).toHaveAttribute('aria-pressed', 'false');
  await pin.click();
  await expect(pin).toHaveAttribute('aria-pressed', 'true');
  await expect(pin).toHaveAttribute('title', 'Unpin');
  await auditPart(page, '.thread-head');
  await screenshot(page, testInfo, 'pin-header');

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
  await pin.click();
  await expect(pin).toHaveAttribute('aria-pressed', 'false');
  await expect(rows.first()).toContainText('Dave Diaz');
  await expect(rows.filter({ hasText: 'Bob Baker' }).getByTestId('pinned')).toHaveCount(0);
  await page.reload();
  await live(page);
  await expect(pin).toHaveAttribute('aria-pressed', 'false');
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
  await page.getByRole('button', { name: 'Mute', exact: true }).click();
  await expect(page.getByRole('button', { name: 'Unmute', exact: true })).toBeVisible();
  await expect(mutedMark).toBeVisible();
  await page.getByRole('button', { name: 'Unmute', exact: true }).click();
  await expect(mutedMark).toHaveCount(0);
});
