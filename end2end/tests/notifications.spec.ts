import type { APIRequestContext, Page } from '@playwright/test';
import { test, expect, type Person } from './fixtures';
import { holdFirstAnswer, hydrated, landHeldAnswer, live, newTabHoldingFirstAnswer, screenshot, signIn, unique } from './helpers';

/**
 * Alice makes an API key for the CRM, and Bob signs in with nothing unread.
 * `notify` sends Bob a notification from the CRM and returns its id.
 */
async function crmAndBob(page: Page, newPerson: () => Promise<Person>, request: APIRequestContext, keyName: string) {
  await signIn(page, 'alice@acme.test');
  const made = await page.request.post('/api/fn/api-key-create', { data: { name: unique(keyName) } });
  expect(made.status()).toBe(200);
  const { key } = await made.json();

  const bob = await newPerson();
  await signIn(bob.page, 'bob@acme.test');
  const me = await bob.page.request.get('/api/auth/me').then((r) => r.json());
  expect((await bob.page.request.post('/api/notifications/read-all')).status()).toBeLessThan(300);
  const notify = async (type: string, title: string, body = 'From the CRM'): Promise<number> => {
    const created = await request.post('/api/notifications', {
      headers: { Authorization: `Bearer ${key}`, 'Idempotency-Key': unique('notify') },
      data: { type, title, body, recipientId: me.id },
    });
    expect(created.status()).toBe(201);
    return (await created.json()).notifications[0].id;
  };
  return { bob, notify };
}

test('a LEAD_ASSIGNED notification from the CRM appears live with the badge; mark all read clears it', async ({ page, newPerson, request }, testInfo) => {
  // Alice, an organisation admin, creates an API key for the CRM.
  await signIn(page, 'alice@acme.test');
  await page.goto('/settings');
  await hydrated(page);
  const keyName = unique('Lead router');
  await page.getByLabel('New key for').fill(keyName);
  await page.getByRole('button', { name: 'Create key' }).click();
  const key = (await page.getByTestId('new-api-key').textContent())?.trim() ?? '';
  expect(key).toMatch(/^crmk_[0-9a-f]{64}$/);
  const keyRow = page.getByRole('row').filter({ hasText: keyName });
  await expect(keyRow.locator('.last-used')).toHaveText('never');
  await screenshot(page, testInfo, 'settings');
  // On a phone too, the page never scrolls sideways, and the key table fits
  // (it drops its "Created by" column), so every Revoke button is in view.
  for (const scroller of ['.settings-app', '.table-scroll']) {
    const sideways = await page.locator(scroller).evaluate((el) => el.scrollWidth - el.clientWidth);
    expect(sideways, `${scroller} does not scroll sideways`).toBeLessThanOrEqual(0);
  }

  // Bob is online with the chat open, his drawer shut.
  const bob = await newPerson();
  await signIn(bob.page, 'bob@acme.test');
  await live(bob.page);
  const me = await bob.page.request.get('/api/auth/me').then((r) => r.json());
  const bell = bob.page.locator('#bell');
  // Bob starts with nothing unread, whatever earlier tests left him.
  expect((await bob.page.request.post('/api/notifications/read-all')).status()).toBeLessThan(300);
  await bob.page.reload();
  await live(bob.page);
  await expect(bob.page.getByTestId('bell-count')).toHaveCount(0);
  const before = 0;

  const title = unique('Lead assigned: Initech');
  const created = await request.post('/api/notifications', {
    headers: { Authorization: `Bearer ${key}`, 'Idempotency-Key': unique('lead') },
    data: {
      type: 'LEAD_ASSIGNED',
      title,
      body: '50 seats, renewal in March',
      recipientId: me.id,
      link: 'https://crm.example.com/leads/7',
      metadata: { leadId: 7 },
    },
  });
  expect(created.status()).toBe(201);

  // Alice's list of keys says when the CRM last used this one.
  await page.reload();
  await hydrated(page);
  await expect(keyRow.locator('.last-used')).toHaveText('just now');

  await expect(bob.page.getByTestId('bell-count')).toHaveText(String(before + 1));
  await expect(bell).toHaveAccessibleName(`Notifications, ${before + 1} unread`);
  await bell.click();
  const drawer = bob.page.getByRole('dialog', { name: 'Notifications' });
  await expect(drawer).toBeVisible();
  await expect(drawer.getByRole('heading', { name: 'Notifications' })).toBeFocused();
  const item = drawer.getByTestId('notification').filter({ hasText: title });
  await expect(item).toContainText('Lead assigned');
  await expect(item).toContainText('50 seats, renewal in March');
  await screenshot(bob.page, testInfo, 'notifications');

  await drawer.getByRole('button', { name: 'Mark all read' }).click();
  await expect(bob.page.getByTestId('bell-count')).toHaveCount(0);
  await expect(bell).toHaveAccessibleName('Notifications');

  // Another tab of Bob's heard it all too.
  const second = await bob.context.newPage();
  await second.goto('/');
  await hydrated(second);
  await expect(second.getByTestId('bell-count')).toHaveCount(0);

  // Escape closes the drawer and gives the focus back to the bell.
  await bob.page.keyboard.press('Escape');
  await expect(drawer).toBeHidden();
  await expect(bell).toBeFocused();
});

test('a bell count read before a notification arrives does not take its badge away when it lands after it', async ({ page, newPerson, request }) => {
  const { bob, notify } = await crmAndBob(page, newPerson, request, 'Reminders');

  // Each time its socket connects, a page asks for the bell's count. Here
  // the server reads that count (0) before the CRM's notification, and the
  // answer reaches Bob's new tab after the notification's push: the order a
  // slow network or a busy server gives (seen once in CI).
  const url = '**/api/fn/notification-count';
  const { tab, held } = await newTabHoldingFirstAnswer(bob.context, url);

  const title = unique('Reminder: call Initech');
  await notify('REMINDER', title, 'Renewal call at 3 pm');
  const badge = tab.getByTestId('bell-count');
  await expect(badge).toHaveText('1');

  // Now the old answer lands.
  await landHeldAnswer(tab, url, held);
  await expect(badge).toHaveText('1');

  await tab.locator('#bell').click();
  const drawer = tab.getByRole('dialog', { name: 'Notifications' });
  await expect(drawer.getByTestId('notification').filter({ hasText: title })).toContainText('Renewal call at 3 pm');
});

test('notifications pushed while the drawer’s first page is on its way show at once and stay, as read as they were, when it lands', async ({ page, newPerson, request }) => {
  const { bob, notify } = await crmAndBob(page, newPerson, request, 'Lead router');
  const older = unique('Lead assigned: Globex');
  const olderId = await notify('LEAD_ASSIGNED', older);
  await bob.page.reload();
  await live(bob.page);

  // The server reads the drawer's first page; its answer is held back.
  const url = '**/api/fn/notifications';
  const held = await holdFirstAnswer(bob.page, url);
  await bob.page.locator('#bell').click();
  await held.read;

  // Meanwhile a reminder arrives, and Bob reads the older one elsewhere.
  const reminder = unique('Reminder: call Globex');
  await notify('REMINDER', reminder);
  expect((await bob.page.request.post(`/api/notifications/${olderId}/read`)).status()).toBeLessThan(300);
  const drawer = bob.page.getByRole('dialog', { name: 'Notifications' });
  const item = (title: string) => drawer.getByTestId('notification').filter({ hasText: title });
  await expect(item(reminder)).toBeVisible();

  await landHeldAnswer(bob.page, url, held);
  await expect(item(reminder)).toHaveClass(/unread/);
  await expect(item(older)).toBeVisible();
  await expect(item(older)).not.toHaveClass(/unread/);
  expect(held.asked(), 'one answer does').toBe(1);
});

test('a drawer opened before the network dropped shows what arrived while it was away once the page is back', async ({ page, newPerson, request }) => {
  const { bob, notify } = await crmAndBob(page, newPerson, request, 'Task router');
  await bob.page.reload();
  await live(bob.page);

  // Bob has looked at his notifications: the drawer is loaded.
  const bell = bob.page.locator('#bell');
  await bell.click();
  const drawer = bob.page.getByRole('dialog', { name: 'Notifications' });
  await expect(drawer.getByRole('heading', { name: 'Notifications' })).toBeFocused();
  await bob.page.keyboard.press('Escape');
  await expect(drawer).toBeHidden();

  // His phone loses the network; the CRM assigns him a task meanwhile.
  await bob.context.setOffline(true);
  await expect(bob.page.locator('html[data-link="reconnecting"]')).toHaveCount(1);
  const title = unique('Task: send the Initech quote');
  await notify('TASK_ASSIGNED', title, 'Due Friday');

  await bob.context.setOffline(false);
  await expect(bob.page.getByTestId('bell-count')).toHaveText('1');
  await bell.click();
  await expect(drawer.getByTestId('notification').filter({ hasText: title })).toHaveClass(/unread/);
});

test('the drawer’s Unread view finds an unread notification behind a page of read ones, keeps one read there until the view changes, and is remembered', async ({ page, newPerson, request }) => {
  const { bob, notify } = await crmAndBob(page, newPerson, request, 'Task router');
  // An unread task, then a page's worth of lead updates Bob has read since:
  // the first page of every notification does not reach the task.
  const task = unique('Task: renew the Initech contract');
  await notify('TASK_ASSIGNED', task);
  for (let i = 0; i < 31; i++) await notify('LEAD_UPDATED', unique('Lead updated: Globex'));
  expect((await bob.page.request.post('/api/notifications/read-all?type=LEAD_UPDATED')).status()).toBeLessThan(300);
  const reminder = unique('Reminder: call Globex');
  await notify('REMINDER', reminder);
  await bob.page.reload();
  await live(bob.page);
  await expect(bob.page.getByTestId('bell-count')).toHaveText('2');

  await bob.page.locator('#bell').click();
  const drawer = bob.page.getByRole('dialog', { name: 'Notifications' });
  const item = (title: string) => drawer.getByTestId('notification').filter({ hasText: title });
  const all = drawer.getByRole('button', { name: 'All', exact: true });
  const unreadOnly = drawer.getByRole('button', { name: /^Unread/ });
  await expect(all).toHaveAttribute('aria-pressed', 'true');
  // The toggle says how many, as the bell does.
  await expect(unreadOnly).toHaveAccessibleName('Unread 2');
  await expect(item(reminder)).toBeVisible();
  await expect(drawer.getByRole('button', { name: 'Show older' })).toBeVisible();
  await expect(item(task)).toHaveCount(0);

  await unreadOnly.click();
  await expect(unreadOnly).toHaveAttribute('aria-pressed', 'true');
  await expect(drawer.getByTestId('notification')).toHaveCount(2);
  await expect(item(task)).toHaveClass(/unread/);
  await expect(item(reminder)).toHaveClass(/unread/);

  // Read here, the reminder stays in view, shown read, until Bob switches.
  await item(reminder).getByRole('button', { name: 'Mark read' }).click();
  await expect(item(reminder)).not.toHaveClass(/unread/);
  await expect(bob.page.getByTestId('bell-count')).toHaveText('1');
  await expect(unreadOnly).toHaveAccessibleName('Unread 1');
  await all.click();
  await expect(item(reminder)).not.toHaveClass(/unread/);
  await unreadOnly.click();
  await expect(item(task)).toBeVisible();
  await expect(item(reminder)).toHaveCount(0);

  // The choice outlives the page; "Mark all read" empties the view.
  await bob.page.reload();
  await live(bob.page);
  await bob.page.locator('#bell').click();
  await expect(unreadOnly).toHaveAttribute('aria-pressed', 'true');
  await expect(drawer.getByTestId('notification')).toHaveCount(1);
  await drawer.getByRole('button', { name: 'Mark all read' }).click();
  await expect(drawer.getByTestId('notification')).toHaveCount(0);
  await expect(drawer.getByText('No unread notifications.')).toBeVisible();
  await expect(bob.page.getByTestId('bell-count')).toHaveCount(0);
  await expect(unreadOnly).toHaveAccessibleName('Unread');
});

test('the drawer shows one type when asked: others still count on the bell, and Mark all read reads only that type', async ({ page, newPerson, request }) => {
  const { bob, notify } = await crmAndBob(page, newPerson, request, 'Reminder service');
  const lead = unique('Lead assigned: Umbrella');
  await notify('LEAD_ASSIGNED', lead);
  const first = unique('Reminder: demo for Umbrella');
  await notify('REMINDER', first);
  await bob.page.reload();
  await live(bob.page);

  await bob.page.locator('#bell').click();
  const drawer = bob.page.getByRole('dialog', { name: 'Notifications' });
  const item = (title: string) => drawer.getByTestId('notification').filter({ hasText: title });
  await expect(item(lead)).toBeVisible();
  await drawer.getByRole('combobox', { name: 'Type' }).selectOption({ label: 'Reminders' });
  await expect(item(lead)).toHaveCount(0);
  await expect(item(first)).toHaveClass(/unread/);

  // Live: a new lead counts on the bell but stays out; a reminder comes in.
  const later = unique('Lead assigned: Hooli');
  await notify('LEAD_ASSIGNED', later);
  const second = unique('Reminder: send the Umbrella quote');
  await notify('REMINDER', second);
  await expect(item(second)).toHaveClass(/unread/);
  await expect(bob.page.getByTestId('bell-count')).toHaveText('4');
  await expect(item(later)).toHaveCount(0);

  await drawer.getByRole('button', { name: 'Mark all read' }).click();
  await expect(item(first)).not.toHaveClass(/unread/);
  await expect(item(second)).not.toHaveClass(/unread/);
  await expect(bob.page.getByTestId('bell-count')).toHaveText('2');

  await drawer.getByRole('combobox', { name: 'Type' }).selectOption({ label: 'Every type' });
  await expect(item(lead)).toHaveClass(/unread/);
  await expect(item(later)).toHaveClass(/unread/);
  await expect(item(first)).not.toHaveClass(/unread/);
});

test('older notifications brought with Show older are still there after the network comes back', async ({ page, newPerson, request }) => {
  const { bob, notify } = await crmAndBob(page, newPerson, request, 'Lead feed');
  const oldest = unique('Lead updated: Acme 1');
  await notify('LEAD_UPDATED', oldest);
  for (let i = 0; i < 31; i++) await notify('LEAD_UPDATED', unique('Lead updated: Acme'));
  await bob.page.reload();
  await live(bob.page);

  await bob.page.locator('#bell').click();
  const drawer = bob.page.getByRole('dialog', { name: 'Notifications' });
  const item = (title: string) => drawer.getByTestId('notification').filter({ hasText: title });
  await expect(item(oldest)).toHaveCount(0);
  await drawer.getByRole('button', { name: 'Show older' }).click();
  await expect(item(oldest)).toBeVisible();

  // The phone loses the network with the drawer open; a task comes meanwhile.
  await bob.context.setOffline(true);
  await expect(bob.page.locator('html[data-link="reconnecting"]')).toHaveCount(1);
  const task = unique('Task: call Acme back');
  await notify('TASK_ASSIGNED', task);
  await bob.context.setOffline(false);

  await expect(item(task)).toHaveClass(/unread/);
  await expect(item(oldest)).toBeVisible();
});
