import type { BrowserContext, Page, Worker } from '@playwright/test';
import { test, expect } from './fixtures';
import { createGroup, hydrated, live, openDirectChat, openThread, send, signIn, unique } from './helpers';

/**
 * The system notifications crm-chat's service worker is showing.
 *
 * Chromium drops a notification from `getNotifications()` when the call
 * overlaps the `showNotification()` that shows it: measured here, 196 of 200
 * overlapping calls lost it and none of 200 that came after it. A test that
 * polls while a message arrives would then never see a notification that was
 * shown. So the worker's `showNotification` calls and these reads are put in
 * one queue, in the worker (crm-chat itself never reads the list). The first
 * call sets the queue up; `switchAway` makes it before anything is shown.
 */
async function shown(page: Page) {
  const worker = page.context().serviceWorkers()[0];
  return worker.evaluate(async () => {
    const sw = self as any;
    const registration = sw.registration;
    if (!sw.queue) {
      sw.queue = Promise.resolve();
      const show = registration.showNotification.bind(registration);
      registration.showNotification = (title: string, options: NotificationOptions) => {
        const done = sw.queue.then(() => show(title, options));
        sw.queue = done.catch(() => {});
        return done;
      };
    }
    const read = sw.queue.then(() => registration.getNotifications());
    sw.queue = read.catch(() => {});
    const list: Notification[] = await read;
    return list.map((n) => ({ title: n.title, body: n.body, tag: n.tag, url: n.data?.url as string }));
  });
}

/** Bob turns desktop notifications on under Settings, saying yes when the browser asks. */
async function turnOn(bob: { context: BrowserContext; page: Page }) {
  await bob.page.goto('/settings');
  await hydrated(bob.page);
  // Nothing is asked until Bob turns it on.
  const turnOn = bob.page.getByRole('button', { name: 'Turn on desktop notifications' });
  await expect(turnOn).toBeVisible();
  await bob.context.grantPermissions(['notifications']);
  await turnOn.click();
  await expect(bob.page.getByRole('switch', { name: 'Show desktop notifications in this browser' })).toBeChecked();
}

/**
 * Bob switches to another tab. A headless browser gives every page the
 * focus unless told otherwise, so his page is told to keep the real one.
 * Returns crm-chat's service worker.
 */
async function switchAway(bob: { context: BrowserContext; page: Page }) {
  const cdp = await bob.context.newCDPSession(bob.page);
  await cdp.send('Emulation.setFocusEmulationEnabled', { enabled: false });
  const other = await bob.context.newPage();
  await other.goto('about:blank');
  await other.bringToFront();
  expect(await bob.page.evaluate(() => document.hasFocus())).toBe(false);
  // The service worker, which checks every crm-chat window, agrees.
  const worker = bob.context.serviceWorkers()[0] ?? (await bob.context.waitForEvent('serviceworker'));
  await expect
    .poll(() =>
      worker.evaluate(async () => {
        const windows = await (self as any).clients.matchAll({ type: 'window', includeUncontrolled: true });
        return windows.map((w: any) => ({ url: new URL(w.url).pathname, focused: w.focused }));
      }),
    )
    .toEqual([{ url: '/', focused: false }]);
  expect(await shown(bob.page)).toEqual([]);
  return worker;
}

/**
 * Dispatches `notificationclick` for the notification with this tag in the
 * worker, as the browser does when it is clicked, and waits for what the
 * handler hands to `waitUntil`. A script's event has no working `waitUntil`
 * of its own (the browser keeps that for the events it dispatches), so this
 * one collects the promises instead.
 */
async function clickNotification(worker: Worker, tag: string) {
  await worker.evaluate(async (tag) => {
    const sw = self as any;
    const [notification] = await sw.registration.getNotifications({ tag });
    if (!notification) throw new Error(`no notification tagged ${tag}`);
    const event = new sw.NotificationEvent('notificationclick', { notification });
    const pending: Promise<unknown>[] = [];
    Object.defineProperty(event, 'waitUntil', { value: (promise: Promise<unknown>) => pending.push(promise) });
    sw.dispatchEvent(event);
    await Promise.all(pending);
  }, tag);
}

test('a message to a tab in the background pops up a desktop notification that opens the conversation; one in view does not; one missed offline pops up on return', async ({ page, newPerson }) => {
  const bob = await newPerson();
  await signIn(bob.page, 'bob@acme.test');
  await turnOn(bob);
  await bob.page.goto('/');
  await live(bob.page);

  // Bob is looking at crm-chat: Dave's message shows in the list, and
  // nothing pops up (checked at the end: it would have come before Alice's).
  const dave = await newPerson();
  await signIn(dave.page, 'dave@acme.test');
  const davePath = await openDirectChat(dave.page, 'Bob');
  const seen = unique('Seen in the list');
  await send(dave.page, seen);
  await expect(bob.page.getByRole('complementary', { name: 'Conversations' })).toContainText(seen);

  // Bob switches to another tab.
  const worker = await switchAway(bob);

  await signIn(page, 'alice@acme.test');
  const path = await openDirectChat(page, 'Bob');
  const text = unique('Call me about the Initech renewal');
  await send(page, text);
  await expect
    .poll(() => shown(bob.page))
    .toEqual([{ title: 'Alice Admin', body: text, tag: `conversation-${path.split('/')[2]}`, url: path }]);

  // A click on it. A test cannot click the system's notification, so the
  // worker gets the event the browser would dispatch, for that notification,
  // and its own notificationclick handler runs. It closes the notification
  // and routes Bob's window there, without a reload.
  await bob.page.evaluate(() => ((window as any).beforeClick = true));
  await clickNotification(worker, `conversation-${path.split('/')[2]}`);
  await expect(bob.page).toHaveURL(new RegExp(`${path}$`));
  await expect(bob.page.getByTestId('message').filter({ hasText: text })).toBeVisible();
  expect(await bob.page.evaluate(() => (window as any).beforeClick)).toBe(true);
  expect(await shown(bob.page)).toEqual([]);

  // Bob's laptop loses the network; Dave writes meanwhile. When Bob is back,
  // the list catches up and Dave's message pops up after all.
  await bob.context.setOffline(true);
  await expect(bob.page.locator('html[data-link="reconnecting"]')).toHaveCount(1);
  const missed = unique('Sent while you were offline');
  await send(dave.page, missed);
  await expect(dave.page.getByTestId('message').filter({ hasText: missed })).toBeVisible();
  await bob.context.setOffline(false);
  await expect
    .poll(() => shown(bob.page))
    .toContainEqual({ title: 'Dave Diaz', body: missed, tag: `conversation-${davePath.split('/')[2]}`, url: davePath });
});

test('in a muted group only a mention of me pops up a desktop notification', async ({ page, newPerson }) => {
  const bob = await newPerson();
  await signIn(bob.page, 'bob@acme.test');
  await turnOn(bob);

  // Alice's group with Bob, which Bob mutes.
  await signIn(page, 'alice@acme.test');
  const path = await createGroup(page, unique('Renewals'), ['Bob Baker']);
  await openThread(bob.page, path);
  await bob.page.getByRole('button', { name: 'Conversation options' }).click();
  await bob.page.getByRole('menuitemcheckbox', { name: 'Mute' }).click();
  await bob.page.getByRole('button', { name: 'Conversation options' }).click();
  await expect(bob.page.getByRole('menuitemcheckbox', { name: 'Mute' })).toHaveAttribute('aria-checked', 'true');
  await bob.page.goto('/');
  await live(bob.page);
  await switchAway(bob);

  // A message that does not name him stays quiet; Dave's direct message
  // afterwards pops up, so the quiet one had its chance first.
  const quiet = unique('Renewal list updated');
  await send(page, quiet);
  const dave = await newPerson();
  await signIn(dave.page, 'dave@acme.test');
  const davePath = await openDirectChat(dave.page, 'Bob');
  const ping = unique('Quick question');
  await send(dave.page, ping);
  await expect.poll(() => shown(bob.page)).toContainEqual(expect.objectContaining({ body: ping, url: davePath }));
  expect((await shown(bob.page)).filter((n) => n.url === path)).toEqual([]);

  // A mention gets through the mute.
  const mention = `@Bob Baker ${unique('can you take Initech')}`;
  await send(page, mention);
  await expect
    .poll(async () => (await shown(bob.page)).filter((n) => n.url === path).map((n) => n.body))
    .toEqual([`Alice Admin: ${mention}`]);
});
