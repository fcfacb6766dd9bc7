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

test('marking a conversation as unread goes back to the list and keeps it marked until I open it again', async ({ page }, testInfo) => {
  await signIn(page, 'heidi@acme.test');
  const withFrank = await openDirectChat(page, 'Frank');
  const text = unique('Frank, the Umbrella contract');
  await send(page, text);
  const other = await page.context().newPage();
  await other.goto('/');
  await live(other);
  const row = (p: typeof page) => p.getByTestId('conversation').filter({ hasText: 'Frank Fisher' });
  await expect(row(other).getByTestId('marked-unread')).toHaveCount(0);

  await page.getByRole('button', { name: 'Mark as unread' }).click();
  await expect(page).toHaveURL(/\/$/);
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

  // Opening it clears the mark, here and in the other tab.
  await row(page).click();
  await expect(page).toHaveURL(new RegExp(`${withFrank}$`));
  await live(page);
  for (const p of [page, other]) await expect(row(p).getByTestId('marked-unread')).toHaveCount(0);
  await expect(row(other)).not.toHaveClass(/unread/);
});
