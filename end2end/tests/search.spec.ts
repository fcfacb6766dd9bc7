import type { Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { auditPart, live, message, openDirectChat, screenshot, send, signIn } from './helpers';

/** A word no other test writes: one token, as search splits on anything else. */
function word(): string {
  return `zq${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/**
 * Searches from the conversation list. SQLite's index trails sends by up to
 * about a second, so a search that comes too soon is typed again.
 */
async function search(page: Page, query: string, expected: number) {
  const box = page.getByLabel('Search conversations and messages');
  const hits = page.getByTestId('search-hit');
  await expect(async () => {
    await box.fill('');
    await box.fill(query);
    await expect(page.getByRole('region', { name: 'Messages' })).not.toContainText('Searching…');
    await expect(hits).toHaveCount(expected, { timeout: 1_000 });
  }).toPass({ timeout: 10_000 });
  return hits;
}

test('search finds messages in all my conversations, marks the words, and opens the conversation at the message', async ({ page, newPerson }, testInfo) => {
  const secret = word();
  const bob = await newPerson();
  await signIn(bob.page, 'bob@acme.test');
  await openDirectChat(bob.page, 'Dave Diaz');
  await send(bob.page, `Not for Erin: ${secret}`);
  await expect(message(bob.page, secret)).toBeVisible();

  await signIn(page, 'erin@acme.test');
  const withFrank = await openDirectChat(page, 'Frank Fisher');
  await send(page, `Renewal ${secret} signed for Q3`);
  await expect(message(page, secret).getByTestId('ticks')).toBeVisible();
  await openDirectChat(page, 'Heidi Hall');
  await send(page, `Heidi, ${secret} is done`);
  await expect(message(page, secret).getByTestId('ticks')).toBeVisible();

  await page.goto('/');
  await live(page);
  // Ctrl+K goes to the search box from anywhere.
  await page.getByRole('button', { name: 'New chat' }).focus();
  await page.keyboard.press('Control+k');
  await expect(page.getByLabel('Search conversations and messages')).toBeFocused();
  // Two of Erin's conversations; not Bob's with Dave, which she is not in.
  const hits = await search(page, secret, 2);
  await expect(page.getByRole('region', { name: 'Messages' }).getByRole('status')).toHaveText('2 messages found.');
  const toFrank = hits.filter({ hasText: 'Frank Fisher' });
  await expect(toFrank).toContainText(`You: Renewal ${secret} signed for Q3`);
  await expect(toFrank.locator('mark')).toHaveText(secret);
  await expect(hits.filter({ hasText: 'Heidi Hall' })).toContainText(`You: Heidi, ${secret} is done`);
  await screenshot(page, testInfo, 'message-search');
  await auditPart(page, '.search-hits');

  // The first word and the start of the last (as typed so far) are enough.
  await search(page, `renewal ${secret.slice(0, -2)}`, 1);

  await search(page, secret, 2);
  await toFrank.click();
  await expect(page).toHaveURL(new RegExp(`${withFrank}\\?m=\\d+$`));
  const id = new URL(page.url()).searchParams.get('m');
  const found = page.locator(`#m-${id}`);
  await expect(found).toContainText(`Renewal ${secret} signed for Q3`);
  await expect(found).toHaveClass(/highlight/);
  await expect(found).toBeInViewport();
});

test('search never finds another organisation\'s messages', async ({ page, newPerson }) => {
  const secret = word();
  const alice = await newPerson();
  await signIn(alice.page, 'alice@acme.test');
  await openDirectChat(alice.page, 'Bob Baker');
  await send(alice.page, `Acme only: ${secret}`);
  await expect(message(alice.page, secret).getByTestId('ticks')).toBeVisible();
  // Alice finds it, so it is in the index.
  await alice.page.goto('/');
  await live(alice.page);
  await search(alice.page, secret, 1);

  await signIn(page, 'carol@globex.test');
  await live(page);
  await search(page, secret, 0);
  await expect(page.getByRole('region', { name: 'Messages' })).toContainText('No messages match.');
  await expect(page.getByRole('region', { name: 'Messages' }).getByRole('status')).toHaveText('No messages match.');
});
