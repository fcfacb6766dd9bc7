import type { Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { auditPart, createGroup, forgiveAbortedRequests, hydrated, landHeldAnswer, live, message, newTabHoldingFirstAnswer, openDirectChat, openThread, screenshot, send, signIn, unique } from './helpers';

// Two or three people, each in a browser context of their own. Every spec
// runs in a desktop and a phone viewport against one server, so messages
// carry unique words and assertions never count on an empty history.

test('Alice and Bob chat in real time: typing, then ticks sent, delivered, read', async ({ page, newPerson }, testInfo) => {
  await signIn(page, 'alice@acme.test');
  const bob = await newPerson();
  await signIn(bob.page, 'bob@acme.test');

  const path = await openDirectChat(page, 'Bob Baker');
  // Bob is online, looking at his list, not at the conversation.
  await bob.page.goto('/');
  await live(bob.page);

  const text = unique('hello-bob');
  const box = page.getByLabel('Message', { exact: true });
  await box.pressSequentially('Hi Bob', { delay: 20 });
  // By its link: a group Alice made with Bob (in a later test, or the other
  // project's run) also names her.
  const bobsRow = bob.page.locator(`[data-testid="conversation"][href="${path}"]`);
  await expect(bobsRow).toContainText('Alice Admin is typing…');

  await box.fill(text);
  await box.press('Enter');
  const mine = message(page, text);
  await expect(mine).toBeVisible();
  // Bob's tab received it: delivered, not yet read.
  await expect(mine.getByTestId('ticks')).toHaveAttribute('data-state', 'delivered');
  await expect(bobsRow).toContainText(text);
  await expect(bobsRow.locator('.badge')).toBeVisible();
  await screenshot(bob.page, testInfo, 'conversation-list');

  // Bob's filter ignores case (the browser's own case mapping) and hides what
  // does not match.
  const filter = bob.page.getByLabel('Search conversations and messages');
  await filter.fill('aLICE aDMIN');
  await expect(bobsRow).toBeVisible();
  await filter.fill(unique('nobody'));
  await expect(bobsRow).toBeHidden();
  await filter.fill('');
  await expect(bobsRow).toBeVisible();

  // Bob opens the thread and sees it: read.
  await openThread(bob.page, path);
  await expect(message(bob.page, text)).toBeVisible();
  await expect(mine.getByTestId('ticks')).toHaveAttribute('data-state', 'read');
  await expect(page.getByTestId('thread-subtitle')).toHaveText('online');

  // And back, live.
  const reply = unique('hi-alice');
  await send(bob.page, reply);
  await expect(message(page, reply)).toBeVisible();
  // In a direct chat the header names Bob; his messages do not repeat it.
  await expect(message(page, reply).locator('.sender')).toHaveCount(0);
  await screenshot(page, testInfo, 'thread');
});

test('a group of three: reply, edit, delete and react (saying who reacted), seen live by everyone', async ({ page, newPerson }, testInfo) => {
  await signIn(page, 'alice@acme.test');
  const bob = await newPerson();
  await signIn(bob.page, 'bob@acme.test');
  const dave = await newPerson();
  await signIn(dave.page, 'dave@acme.test');

  // Alice creates the group.
  const path = await createGroup(page, unique('Deal desk'), ['Bob Baker', 'Dave Diaz']);
  await openThread(bob.page, path);
  await openThread(dave.page, path);
  const everyone = [page, bob.page, dave.page];

  const question = unique('who-takes-initech');
  await send(page, question);
  for (const p of everyone) await expect(message(p, question)).toBeVisible();
  // Both have it on screen: read by both, and the ticks say who.
  const ticks = message(page, question).getByTestId('ticks');
  await expect(ticks).toHaveAttribute('data-state', 'read');
  await ticks.click();
  await expect(message(page, question).getByTestId('read-by')).toHaveText('Read by Bob Baker, Dave Diaz');

  // Bob replies to it, quoting it.
  const answer = unique('i-will');
  await message(bob.page, question).click();
  await message(bob.page, question).getByRole('button', { name: 'Reply' }).click();
  await expect(bob.page.getByTestId('composer-chip')).toContainText(question);
  await send(bob.page, answer);
  for (const p of everyone) {
    const reply = message(p, answer);
    await expect(reply).toBeVisible();
    await expect(reply.locator('.quote')).toContainText(question);
  }
  // In a group, a message says who wrote it.
  await expect(message(dave.page, answer).locator('.sender')).toHaveText('Bob Baker');

  // Alice edits her question, in bold.
  const edited = unique('who-takes-initech-today');
  await message(page, question).click();
  await message(page, question).getByRole('button', { name: 'Edit' }).click();
  await page.getByLabel('Message', { exact: true }).fill(`*${edited}*`);
  await page.getByLabel('Message', { exact: true }).press('Enter');
  for (const p of everyone) {
    await expect(message(p, edited)).toBeVisible();
    await expect(message(p, edited)).toContainText('edited');
    // The reply's quote follows, in words without their markers.
    await expect(message(p, answer).locator('.quote-text')).toHaveText(edited);
  }

  // Dave reacts to Bob's answer.
  await message(dave.page, answer).click();
  await message(dave.page, answer).getByRole('button', { name: 'React with 👍' }).click();
  for (const p of everyone) {
    await expect(message(p, answer).getByTestId('reaction')).toContainText('👍1');
  }
  // Toggling mine counts me once, and takes it back.
  await message(bob.page, answer).getByTestId('reaction').click();
  for (const p of everyone) await expect(message(p, answer).getByTestId('reaction')).toContainText('👍2');
  // Hovering says who, you first; a long press (a right-click here) shows it.
  await expect(message(bob.page, answer).getByTestId('reaction')).toHaveAttribute('title', 'You and Dave Diaz reacted with 👍');
  await expect(message(page, answer).getByTestId('reaction')).toHaveAccessibleName('Dave Diaz and Bob Baker reacted with 👍');
  await message(page, answer).getByTestId('reaction').click({ button: 'right' });
  await expect(message(page, answer).getByTestId('reacted-by')).toHaveText('Dave Diaz and Bob Baker reacted with 👍');
  // The bubble, not the message's actions (a long press on the message opens those).
  await expect(message(page, answer).locator('.actions')).not.toHaveClass(/\bopen\b/);
  await expect(message(page, answer).getByTestId('reacted-by')).toHaveCount(0, { timeout: 6000 });
  await message(bob.page, answer).getByTestId('reaction').click();
  for (const p of everyone) await expect(message(p, answer).getByTestId('reaction')).toContainText('👍1');

  // Alice deletes her question: a tombstone everywhere.
  const tombstone = (p: typeof page) =>
    p.getByTestId('message').filter({ has: p.locator('p.deleted-text', { hasText: 'This message was deleted' }) });
  const deletedBefore = await tombstone(page).count();
  await message(page, edited).click();
  await message(page, edited).getByRole('button', { name: 'Delete', exact: true }).click();
  await page.getByRole('button', { name: 'Delete for everyone' }).click();
  for (const p of everyone) {
    await expect(message(p, edited)).toHaveCount(0);
    await expect(tombstone(p)).toHaveCount(deletedBefore + 1);
  }
  // The reply's quote no longer shows the deleted text.
  await expect(message(dave.page, answer).locator('.quote')).toContainText('This message was deleted');
  await screenshot(dave.page, testInfo, 'group');
});

test('any emoji: the picker searches by name, keeps my skin tone and recent picks, and works from the keyboard', async ({ page, newPerson }, testInfo) => {
  // axe audits the picker's 1,870 buttons in light and dark: 15–35 s of
  // the test on two shared cores.
  test.slow();
  await signIn(page, 'alice@acme.test');
  const bob = await newPerson();
  await signIn(bob.page, 'bob@acme.test');
  const path = await openDirectChat(page, 'Bob Baker');
  await openThread(bob.page, path);
  const text = unique('launch-day');
  await send(bob.page, text);
  const mine = message(page, text);
  const theirs = message(bob.page, text);
  const reaction = (m: typeof mine, emoji: string) => m.getByTestId('reaction').filter({ hasText: emoji });

  // From the message's actions; on a phone too, where the toolbar fits.
  await mine.click();
  const more = mine.locator('.actions').getByRole('button', { name: 'Add reaction' });
  await expect(more).toBeInViewport();
  await more.click();
  const picker = page.getByRole('dialog', { name: 'Add reaction' });
  const search = picker.getByRole('searchbox', { name: 'Search emoji' });
  await expect(search).toBeFocused();
  // Before anything is picked, the quick reactions head the list.
  await expect(picker.getByRole('group', { name: 'Recently used' }).getByRole('button').first()).toHaveAccessibleName('thumbs up');
  await expect(picker.getByRole('group', { name: 'Flags' }).getByRole('button', { name: 'flag: France' })).toHaveCount(1);
  await auditPart(page, '[data-testid="emoji-picker"]');
  await screenshot(page, testInfo, 'emoji-picker');
  // The groups' bar jumps to a group far down the list.
  const flags = picker.getByRole('group', { name: 'Flags' });
  await expect(flags).not.toBeInViewport();
  await picker.getByRole('navigation', { name: 'Emoji groups' }).getByRole('button', { name: 'Flags', exact: true }).click();
  await expect(flags).toBeInViewport();

  // Enter takes the first match; the dialog closes back to the message.
  await search.fill('rocket');
  await expect(picker.getByRole('button', { name: 'rocket', exact: true })).toBeVisible();
  await search.press('Enter');
  await expect(picker).toHaveCount(0);
  await expect(mine).toBeFocused();
  await expect(reaction(mine, '🚀')).toContainText('🚀1');
  await expect(reaction(theirs, '🚀')).toContainText('🚀1');

  // From the reactions row, with a skin tone, found by a shortcode.
  await mine.locator('.reactions').getByRole('button', { name: 'Add reaction' }).click();
  await expect(picker.getByRole('group', { name: 'Recently used' }).getByRole('button').first()).toHaveText('🚀');
  await picker.getByRole('radio', { name: 'Medium skin tone' }).click();
  await search.fill(':+1');
  await picker.getByRole('button', { name: 'thumbs up' }).click();
  await expect(reaction(theirs, '👍🏽')).toContainText('👍🏽1');

  // The arrow keys move between the emoji.
  await mine.locator('.reactions').getByRole('button', { name: 'Add reaction' }).click();
  await search.fill('joy');
  await picker.getByRole('button', { name: 'face with tears of joy' }).focus();
  await page.keyboard.press('ArrowRight');
  await expect(picker.getByRole('button', { name: 'cat with tears of joy' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(reaction(theirs, '😹')).toContainText('😹1');

  // After a reload: the tone and the recent picks are remembered, and
  // picking one of mine again takes it back. Escape closes.
  await openThread(page, path);
  await mine.locator('.reactions').getByRole('button', { name: 'Add reaction' }).click();
  await expect(picker.getByRole('radio', { name: 'Medium skin tone' })).toHaveAttribute('aria-checked', 'true');
  await expect(picker.getByRole('group', { name: 'People & body' }).getByRole('button', { name: 'thumbs up' })).toHaveText('👍🏽');
  const recent = picker.getByRole('group', { name: 'Recently used' }).getByRole('button');
  await expect(recent).toHaveText(['😹', '👍🏽', '🚀']);
  await recent.nth(2).click();
  await expect(reaction(theirs, '🚀')).toHaveCount(0);
  await mine.locator('.reactions').getByRole('button', { name: 'Add reaction' }).click();
  // Escape closes it wherever the focus is: here on the page's body, after
  // a click on the picker's title (once the picker has moved the focus into
  // its search, which it does as it shows).
  await expect(search).toBeFocused();
  await picker.getByRole('heading', { name: 'Add reaction' }).click();
  await expect(search).not.toBeFocused();
  expect(await page.evaluate(() => document.activeElement === document.body)).toBe(true);
  await page.keyboard.press('Escape');
  await expect(picker).toHaveCount(0);

  // The composer's `:` list offers the emoji in the tone chosen here.
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.pressSequentially(':+1', { delay: 30 });
  await expect(page.getByRole('listbox', { name: 'Emoji' }).getByRole('option').first()).toHaveText('👍🏽:+1:');
  await box.press('Escape');
});

test('a message I have focused keeps the focus when someone reacts to it or writes under it', async ({ page, newPerson }) => {
  // A change rebuilds a message's row; a keyboard user must not be sent
  // back to the top of the page each time.
  await signIn(page, 'alice@acme.test');
  const bob = await newPerson();
  await signIn(bob.page, 'bob@acme.test');
  const path = await openDirectChat(page, 'Bob Baker');
  await openThread(bob.page, path);
  const text = unique('focus-kept');
  await send(bob.page, text);
  const mine = message(page, text);
  const theirs = message(bob.page, text);
  await mine.focus();
  await expect(mine).toBeFocused();

  // Bob reacts: the row is rebuilt, and the focus is on the new one.
  await theirs.click();
  await theirs.getByRole('button', { name: 'React with 👍' }).click();
  await expect(mine.getByTestId('reaction')).toContainText('👍1');
  await expect(mine).toBeFocused();

  // His next message joins the group under it, which rebuilds it again.
  const next = unique('focus-next');
  await send(bob.page, next);
  await expect(message(page, next)).toBeVisible();
  await expect(mine).toBeFocused();

  // On a control inside the row, the focus goes back to that control.
  const thumbs = mine.getByTestId('reaction').filter({ hasText: '👍' });
  await thumbs.focus();
  await theirs.click();
  await theirs.getByRole('button', { name: 'React with ❤️' }).click();
  await expect(mine.getByTestId('reaction').filter({ hasText: '❤️' })).toContainText('❤️1');
  await expect(thumbs).toBeFocused();

  // A focus I moved away, here to nowhere by a click on the title, stays
  // there: by the time Bob's next message shows, the row rebuilt by his
  // reaction would have taken it back.
  await page.locator('#thread-title').click();
  const onBody = () => page.evaluate(() => document.activeElement === document.body);
  expect(await onBody()).toBe(true);
  await theirs.click();
  await theirs.getByRole('button', { name: 'React with 😂' }).click();
  await expect(mine.getByTestId('reaction').filter({ hasText: '😂' })).toContainText('😂1');
  const last = unique('focus-last');
  await send(bob.page, last);
  await expect(message(page, last)).toBeVisible();
  expect(await onBody()).toBe(true);
});

test('switching conversations while messages arrive keeps the page working', async ({ page, newPerson }, testInfo) => {
  test.skip(testInfo.project.name === 'mobile', 'a phone shows the list or a thread, not both');
  await signIn(page, 'alice@acme.test');
  const bob = await newPerson();
  await signIn(bob.page, 'bob@acme.test');
  await openDirectChat(page, 'Erin Evans');
  const withBob = await openDirectChat(bob.page, 'Alice Admin');
  await openThread(page, withBob);
  const row = (name: string) => page.getByTestId('conversation').filter({ hasText: name });

  // Bob keeps writing while Alice goes from his conversation to Erin's and
  // back: each switch lands while his messages are on their way.
  let last = '';
  for (let i = 0; i < 4; i++) {
    last = unique('ping');
    await send(bob.page, last);
    await row(i % 2 ? 'Bob Baker' : 'Erin Evans').click();
    await send(bob.page, unique('ping'));
  }
  await expect(page).toHaveURL(new RegExp(`${withBob}$`));
  await expect(message(page, last)).toBeVisible();
  // The page still answers: it sends, and Bob receives.
  const reply = unique('pong');
  await send(page, reply);
  await expect(message(bob.page, reply)).toBeVisible();
});

test('offline outbox: messages typed offline arrive once each, in order, when back online', async ({ page, context, newPerson }) => {
  await signIn(page, 'erin@acme.test');
  const frank = await newPerson();
  await signIn(frank.page, 'frank@acme.test');
  const path = await openDirectChat(page, 'Frank Fisher');
  await openThread(frank.page, path);

  await context.setOffline(true);
  await expect(page.locator('html[data-link="reconnecting"]')).toHaveCount(1);
  await expect(page.getByText('Reconnecting…')).toBeVisible();
  const first = unique('offline-one');
  const second = unique('offline-two');
  await send(page, first);
  await send(page, second);
  await expect(page.getByTestId('pending-message')).toHaveCount(2);
  await expect(page.getByTestId('pending-message').first()).toContainText('Sending…');

  await context.setOffline(false);
  await expect(page.getByTestId('pending-message')).toHaveCount(0, { timeout: 20_000 });
  await expect(message(frank.page, first)).toHaveCount(1);
  await expect(message(frank.page, second)).toHaveCount(1);
  const texts = await frank.page.getByTestId('message').allTextContents();
  const order = texts.filter((t) => t.includes(first) || t.includes(second));
  expect(order.map((t) => (t.includes(first) ? 'first' : 'second'))).toEqual(['first', 'second']);

  // A reload keeps them exactly once too.
  await frank.page.reload();
  await hydrated(frank.page);
  await expect(message(frank.page, first)).toHaveCount(1);
  await expect(message(frank.page, second)).toHaveCount(1);
});

test('more unread than fits opens at the New messages line; a reload after reading keeps the history, the scroll at the bottom and the unread state', async ({ page, newPerson }) => {
  await signIn(page, 'heidi@acme.test');
  const dave = await newPerson();
  await signIn(dave.page, 'dave@acme.test');
  const path = await openDirectChat(page, 'Dave Diaz');
  const first = unique('first-words');
  const last = unique('last-words');
  await send(page, first);
  for (let i = 0; i < 25; i++) await send(page, `${unique('filler')} ${i}`);
  await send(page, last);
  await expect(message(page, last)).toBeVisible();

  // The server's HTML already holds the newest message, before any script runs.
  const html = await dave.page.request.get(path).then((r) => r.text());
  expect(html).toContain(last);

  // Dave starts where his unread messages start, not past them, and only
  // what he has seen is read.
  await openThread(dave.page, path);
  await expect(dave.page.getByTestId('new-messages-line')).toBeInViewport();
  await expect(message(dave.page, first)).toBeInViewport();
  await expect(message(dave.page, last)).not.toBeInViewport();
  await expect(message(page, first).getByTestId('ticks')).toHaveAttribute('data-state', 'read');
  await expect(message(page, last).getByTestId('ticks')).not.toHaveAttribute('data-state', 'read');
  await dave.page.getByTestId('messages').evaluate((el) => el.scrollTo(0, el.scrollHeight));
  await expect(message(page, last).getByTestId('ticks')).toHaveAttribute('data-state', 'read');

  await dave.page.reload();
  await hydrated(dave.page);
  await live(dave.page);
  await expect(message(dave.page, last)).toBeInViewport();
  const scroller = dave.page.getByTestId('messages');
  await expect
    .poll(() => scroller.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight))
    .toBeLessThan(50);
  // Read: no unread badge on the row, and Heidi's ticks say read.
  const row = dave.page.getByTestId('conversation').filter({ hasText: 'Heidi Hall' });
  if (await row.isVisible()) await expect(row.locator('.badge')).toHaveCount(0);
  await expect(message(page, last).getByTestId('ticks')).toHaveAttribute('data-state', 'read');
});

test('a thread with more unread than one page opens at the first unread message: the server sends enough, older pages load for the rest', async ({ page, newPerson }) => {
  await signIn(page, 'heidi@acme.test');
  const dave = await newPerson();
  await signIn(dave.page, 'dave@acme.test');
  const path = await createGroup(page, unique('Backlog'), ['Dave Diaz']);
  const url = `/api/chat/conversations${path.replace('/c', '')}/messages`;
  const post = async (content: string) => {
    const response = await page.request.post(url, { data: { content } });
    expect(response.status()).toBe(201);
  };
  const before = unique('before-words');
  const first = unique('first-words');
  const last = unique('last-words');

  // 120 unread: more than a page of 50, fewer than the 200 an opening may
  // bring, so the server's HTML already reaches the first unread message.
  await post(before);
  await openThread(dave.page, path);
  await expect(message(page, before).getByTestId('ticks')).toHaveAttribute('data-state', 'read');
  await dave.page.goto('/');
  await post(first);
  for (let i = 0; i < 118; i++) await post(`filler ${i}`);
  await post(last);
  const html = await dave.page.request.get(path).then((r) => r.text());
  expect(html).toContain(first);
  await openThread(dave.page, path);
  await expect(dave.page.getByTestId('new-messages-line')).toBeInViewport();
  await expect(message(dave.page, first)).toBeInViewport();
  await expect(message(dave.page, last)).not.toBeInViewport();
  // The line is directly above the first unread message.
  await expect(message(dave.page, first).locator('xpath=preceding-sibling::li[1]')).toHaveAttribute(
    'data-testid',
    'new-messages-line',
  );

  // 260 unread: past what an opening brings; older pages load until the
  // first unread message is there.
  await dave.page.getByTestId('messages').evaluate((el) => el.scrollTo(0, el.scrollHeight));
  await expect(message(page, last).getByTestId('ticks')).toHaveAttribute('data-state', 'read');
  await dave.page.goto('/');
  const second = unique('second-first-words');
  await post(second);
  for (let i = 0; i < 258; i++) await post(`more ${i}`);
  await openThread(dave.page, path);
  await expect(message(dave.page, second)).toBeInViewport();
  await expect(dave.page.getByTestId('new-messages-line')).toBeInViewport();
  await expect(message(dave.page, second).locator('xpath=preceding-sibling::li[1]')).toHaveAttribute(
    'data-testid',
    'new-messages-line',
  );
});

test('with JavaScript disabled, the conversation list and an open thread are readable', async ({ page, browser }, testInfo) => {
  await signIn(page, 'heidi@acme.test');
  const path = await openDirectChat(page, 'Dave Diaz');
  const text = unique('no-script');
  await send(page, text);
  await expect(message(page, text).getByTestId('ticks')).not.toHaveAttribute('data-state', 'sending');

  // The same session in a browser that runs no script at all.
  const options = testInfo.project.use;
  const plain = await browser.newContext({
    javaScriptEnabled: false,
    storageState: await page.context().storageState(),
    baseURL: options.baseURL,
    viewport: options.viewport,
    isMobile: options.isMobile,
  });
  const reader = await plain.newPage();
  await reader.goto(path);
  await expect(reader.locator('#thread-title')).toHaveText('Dave Diaz');
  await expect(message(reader, text)).toBeVisible();
  await reader.goto('/');
  await expect(reader.getByTestId('conversation').filter({ hasText: 'Dave Diaz' })).toContainText(text);
  await plain.close();
});

test('an image shows inline and a PDF downloads', async ({ page, newPerson }) => {
  await signIn(page, 'alice@acme.test');
  const erin = await newPerson();
  await signIn(erin.page, 'erin@acme.test');
  const path = await openDirectChat(page, 'Erin Evans');
  await openThread(erin.page, path);

  const name = unique('quote');
  await page.getByTestId('attach').setInputFiles([
    { name: `${name}.png`, mimeType: 'image/png', buffer: png(40, 30) },
    { name: `${name}.pdf`, mimeType: 'application/pdf', buffer: pdf() },
  ]);
  const image = erin.page.locator(`img[alt="${name}.png"]`);
  await expect(image).toBeVisible();
  await expect(image).toHaveAttribute('width', '40');
  await expect(image).toHaveAttribute('height', '30');
  await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(40);

  const file = erin.page.getByRole('link', { name: new RegExp(`${name}\\.pdf`) });
  await expect(file).toBeVisible();
  const [download] = await Promise.all([erin.page.waitForEvent('download'), file.click()]);
  expect(download.suggestedFilename()).toBe(`${name}.pdf`);
  const body = await download.createReadStream().then(async (stream) => {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  });
  expect(body.subarray(0, 5).toString()).toBe('%PDF-');
});

test("forwarding: Alice forwards Dave's words, with her own, and his image to Erin, who sees whom they are from", async ({ page, newPerson, consoleErrors }, testInfo) => {
  await signIn(page, 'alice@acme.test');
  const dave = await newPerson();
  await signIn(dave.page, 'dave@acme.test');
  const erin = await newPerson();
  await signIn(erin.page, 'erin@acme.test');
  const withBob = await openDirectChat(page, 'Bob Baker');
  const withErin = await openDirectChat(page, 'Erin Evans');
  await openThread(erin.page, withErin);
  const withDave = await openDirectChat(dave.page, 'Alice Admin');
  await openThread(page, withDave);

  const words = unique('signs');
  await send(dave.page, `Initech *${words}* on Friday`);
  await dave.page.getByTestId('attach').setInputFiles([{ name: `${words}.png`, mimeType: 'image/png', buffer: png(40, 30) }]);
  const original = message(page, words);
  const image = page.getByTestId('message').filter({ has: page.locator(`img[alt="${words}.png"]`) });
  await expect(image).toBeVisible();

  await original.click();
  await original.getByRole('button', { name: 'Forward' }).click();
  const dialog = page.getByRole('dialog', { name: 'Forward message' });
  await expect(dialog.getByLabel('Send to')).toBeFocused();
  await expect(dialog.locator('.forward-preview')).toContainText(`Initech ${words} on Friday`);
  await auditPart(page, '[data-testid="forward-dialog"]');
  const note = unique('see-below');
  await dialog.getByLabel('Add a message (optional)').fill(note);
  await dialog.getByLabel('Send to').fill('erin');
  await expect(dialog.getByRole('checkbox', { name: /Dave Diaz/ })).toHaveCount(0);
  await expect(dialog.getByRole('button', { name: 'Forward' })).toBeDisabled();
  await dialog.getByRole('checkbox', { name: /Erin Evans/ }).check();
  await dialog.getByRole('button', { name: 'Forward' }).click();

  // The forwarder lands in the conversation the copy went to, as in WhatsApp.
  await expect(page).toHaveURL(new RegExp(`${withErin}$`));
  await expect(dialog).toHaveCount(0);
  const copy = message(page, words);
  await expect(copy.getByTestId('forwarded')).toHaveText('Forwarded from Dave Diaz');
  await expect(copy.locator('strong')).toHaveText(words);
  const received = message(erin.page, words);
  await expect(received.getByTestId('forwarded')).toHaveText('Forwarded from Dave Diaz');
  await expect(received.locator('strong')).toHaveText(words);
  // Alice's own words follow the copy, as a message of hers.
  const comment = message(erin.page, note);
  await expect(comment.getByTestId('forwarded')).toHaveCount(0);
  const seq = async (m: typeof comment) => Number(await m.getAttribute('data-seq'));
  expect(await seq(comment)).toBe((await seq(received)) + 1);
  // Dave's words are not Alice's to edit.
  await copy.click();
  await expect(copy.getByRole('button', { name: 'Forward' })).toBeVisible();
  await expect(copy.getByRole('button', { name: 'Edit' })).toHaveCount(0);

  // His image too: Erin, who is not in Alice and Dave's chat, sees it.
  await openThread(page, withDave);
  await image.locator('time').click();
  await image.getByRole('button', { name: 'Forward' }).click();
  await dialog.getByRole('checkbox', { name: /Erin Evans/ }).check();
  await dialog.getByRole('button', { name: 'Forward' }).click();
  await expect(page).toHaveURL(new RegExp(`${withErin}$`));
  const forwardedImage = erin.page.locator(`img[alt="${words}.png"]`);
  await expect(forwardedImage).toBeVisible();
  await expect.poll(() => forwardedImage.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(40);
  await screenshot(erin.page, testInfo, 'forwarded');
  // After a server render, the same.
  await openThread(erin.page, withErin);
  await expect(message(erin.page, words).getByTestId('forwarded')).toHaveText('Forwarded from Dave Diaz');

  // Closed before the copy is stored (held here for 300 ms), the dialog
  // forwards it all the same and leaves Alice where she is.
  await page.route('**/api/fn/forward', async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    await route.continue();
  });
  const later = unique('later');
  await send(dave.page, later);
  await openThread(page, withDave);
  await message(page, later).click();
  await message(page, later).getByRole('button', { name: 'Forward' }).click();
  const laterNote = unique('later-note');
  await dialog.getByLabel('Add a message (optional)').fill(laterNote);
  await dialog.getByRole('checkbox', { name: /Erin Evans/ }).check();
  await dialog.getByRole('button', { name: 'Forward' }).click();
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await expect(message(erin.page, later).getByTestId('forwarded')).toHaveText('Forwarded from Dave Diaz');
  await expect(message(erin.page, laterNote)).toBeVisible();
  await expect(page).toHaveURL(new RegExp(`${withDave}$`));
  await page.unroute('**/api/fn/forward');

  // To Erin and Bob at once. The copy to Bob is lost on its way: the dialog
  // says so and keeps only Bob picked; trying again sends his alone, so
  // Erin has one copy. After several, Alice stays where she was.
  const both = unique('both');
  await send(dave.page, both);
  await message(page, both).click();
  await message(page, both).getByRole('button', { name: 'Forward' }).click();
  await dialog.getByRole('checkbox', { name: /Erin Evans/ }).check();
  await dialog.getByRole('checkbox', { name: /Bob Baker/ }).check();
  await expect(dialog.locator('.forward-to')).toHaveText('Erin Evans, Bob Baker');
  const bobId = withBob.split('/').pop();
  let lost = false;
  await page.route('**/api/fn/forward', async (route) => {
    if (!lost && route.request().postData()?.includes(`"conversationId":${bobId},`)) {
      lost = true;
      await route.abort();
    } else {
      await route.continue();
    }
  });
  await dialog.getByRole('button', { name: 'Forward' }).click();
  await expect(dialog.getByRole('alert')).toContainText('Not forwarded to Bob Baker');
  forgiveAbortedRequests(consoleErrors);
  await expect(dialog.getByRole('checkbox', { name: /Erin Evans/ })).not.toBeChecked();
  await expect(dialog.getByRole('checkbox', { name: /Bob Baker/ })).toBeChecked();
  await dialog.getByRole('button', { name: 'Forward' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(page).toHaveURL(new RegExp(`${withDave}$`));
  expect(lost).toBe(true);
  await expect(message(erin.page, both).getByTestId('forwarded')).toHaveText('Forwarded from Dave Diaz');
  await openThread(page, withBob);
  await expect(message(page, both).getByTestId('forwarded')).toHaveText('Forwarded from Dave Diaz');
  await openThread(erin.page, withErin);
  await expect(message(erin.page, both)).toHaveCount(1);
});

test('organisations are isolated: Carol sees no Acme people and no Acme conversation', async ({ page, newPerson }) => {
  await signIn(page, 'alice@acme.test');
  const path = await openDirectChat(page, 'Bob Baker');
  const carol = await newPerson();
  await signIn(carol.page, 'carol@globex.test');
  await carol.page.goto('/');
  await live(carol.page);
  await carol.page.getByRole('button', { name: 'New chat' }).click();
  const people = carol.page.getByRole('list', { name: 'People' });
  await expect(people).toContainText('Grace Green');
  for (const acme of ['Alice', 'Bob', 'Dave']) {
    await carol.page.getByLabel('Find a person').fill(acme);
    await expect(people).toContainText('Nobody found.');
  }
  await carol.page.goto(path);
  await expect(carol.page.getByRole('alert')).toContainText('Conversation not found');
  await expect(carol.page.getByText('Bob Baker')).toHaveCount(0);
});

/** A valid RGBA PNG of the given size, all one colour. */
function png(width: number, height: number): Buffer {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const zlib = require('node:zlib') as typeof import('node:zlib');
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (data: Buffer) => {
    let c = 0xffffffff;
    for (const b of data) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([length, body, sum]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(width * 4, 0x7f)]);
  const pixels = zlib.deflateSync(Buffer.concat(Array.from({ length: height }, () => row)));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', pixels),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A small, valid one-page PDF. */
function pdf(): Buffer {
  return Buffer.from(
    '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n' +
      '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
  );
}

test('the Up arrow in an empty box edits my last message, and Escape leaves it as it was', async ({ page }) => {
  await signIn(page, 'alice@acme.test');
  await openDirectChat(page, 'Frank');
  const first = unique('call Initech');
  const second = unique('call Globex');
  await send(page, first);
  await send(page, second);
  await expect(message(page, second)).toBeVisible();
  const box = page.getByLabel('Message', { exact: true });
  const chip = page.getByTestId('composer-chip');

  // With text in the box, Up only moves the caret.
  await box.fill('draft');
  await box.press('ArrowUp');
  await expect(chip).toHaveCount(0);
  await box.fill('');

  await box.press('ArrowUp');
  await expect(chip).toContainText('Editing');
  await expect(chip).toContainText(second);
  await expect(box).toHaveValue(second);
  await box.press('Escape');
  await expect(chip).toHaveCount(0);
  await expect(box).toHaveValue('');
  await expect(message(page, second)).not.toContainText('edited');

  const corrected = unique('call Globex today');
  await box.press('ArrowUp');
  await box.fill(corrected);
  await box.press('Enter');
  await expect(message(page, corrected)).toContainText('edited');
  await expect(message(page, first)).not.toContainText('edited');
  await expect(box).toHaveValue('');
});

test('a draft I leave in a conversation shows in my list, in every tab and after a reload, until I send it', async ({ page }, testInfo) => {
  await signIn(page, 'erin@acme.test');
  await openDirectChat(page, 'Frank Fisher');
  const rowIn = (tab: Page) => tab.getByTestId('conversation').filter({ hasText: 'Frank Fisher' });

  // Erin's second tab shows the list.
  const list = await page.context().newPage();
  await list.goto('/');
  await live(list);

  const draft = unique('Frank, about the Globex renewal');
  await page.getByLabel('Message', { exact: true }).fill(`${draft}\n\nand the invoice`);
  // The other tab shows it at once, on one line; the tab writing it does
  // not, while the conversation is open there.
  await expect(rowIn(list).getByTestId('draft')).toBeVisible();
  await expect(rowIn(list)).toContainText(`Draft: ${draft} and the invoice`);
  await expect(rowIn(list)).toHaveAttribute('aria-label', /, draft$/);
  await expect(rowIn(page).getByTestId('draft')).toHaveCount(0);
  await auditPart(list, 'aside.sidebar');
  await screenshot(list, testInfo, 'draft');

  // Going back to the list shows it there too, and a reload keeps it.
  await page.goBack();
  await expect(page).toHaveURL(/\/$/);
  await expect(rowIn(page)).toContainText(`Draft: ${draft}`);
  await list.reload();
  await live(list);
  await expect(rowIn(list)).toContainText(`Draft: ${draft}`);

  // Opening the conversation brings the draft back into the box; sending
  // it turns the row back into the last message, in both tabs.
  await rowIn(page).click();
  const box = page.getByLabel('Message', { exact: true });
  await expect(box).toHaveValue(`${draft}\n\nand the invoice`);
  await box.press('Enter');
  await expect(message(page, draft)).toBeVisible();
  await expect(rowIn(list).getByTestId('draft')).toHaveCount(0);
  await expect(rowIn(list)).toContainText(`You: ${draft}`);
  await expect(rowIn(list)).not.toHaveAttribute('aria-label', /draft/);
});

test('markup: bold, italic, strikethrough and code, quotes and lists show styled on both sides, Ctrl+B styles the selection, Copy copies it as written, and :shortcodes: arrive as emoji', async ({ page, newPerson }, testInfo) => {
  await signIn(page, 'heidi@acme.test');
  const bob = await newPerson();
  await signIn(bob.page, 'bob@acme.test');
  const path = await openDirectChat(page, 'Bob Baker');
  await openThread(bob.page, path);

  // Ctrl+B (⌘B on a Mac) puts asterisks around the selected word, and takes them away again.
  const word = unique('urgent');
  const box = page.getByLabel('Message', { exact: true });
  const oneLine = (await box.boundingBox())!.height;
  await box.fill(`call ${word} about snake_case_name`);
  const selectWord = () =>
    box.evaluate((el: HTMLTextAreaElement, w) => {
      const at = el.value.indexOf(w);
      el.setSelectionRange(at, at + w.length);
    }, word);
  await selectWord();
  await box.press('ControlOrMeta+b');
  await expect(box).toHaveValue(`call *${word}* about snake_case_name`);
  // Undo takes a style back, as it takes back typing.
  await box.press('ControlOrMeta+z');
  await expect(box).toHaveValue(`call ${word} about snake_case_name`);
  await selectWord();
  await box.press('ControlOrMeta+b');
  await expect(box).toHaveValue(`call *${word}* about snake_case_name`);
  await box.press('ControlOrMeta+b');
  await expect(box).toHaveValue(`call ${word} about snake_case_name`);
  await box.press('ControlOrMeta+b');
  // To the end of the text (End only reaches the end of a wrapped line on a phone).
  await box.evaluate((el: HTMLTextAreaElement) => el.setSelectionRange(el.value.length, el.value.length));
  await box.pressSequentially(', _today_ ~not tomorrow~, run `crm sync`');
  await box.press('Shift+Enter');
  await box.pressSequentially('```');
  await box.press('Shift+Enter');
  await box.pressSequentially('SELECT *');
  await box.press('Shift+Enter');
  await box.pressSequentially('  FROM leads');
  await box.press('Shift+Enter');
  await box.pressSequentially('```');
  await box.press('Enter');
  await expect(box).toHaveValue('');
  // The box grew with the lines and is back to one once they are sent.
  await expect.poll(async () => (await box.boundingBox())!.height).toBe(oneLine);

  const styled = async (p: Page) => {
    const sent = message(p, word);
    await expect(sent.locator('strong')).toHaveText(word);
    await expect(sent.locator('em')).toHaveText('today');
    await expect(sent.locator('s')).toHaveText('not tomorrow');
    await expect(sent.locator('.text > code')).toHaveText('crm sync');
    await expect(sent.locator('pre code')).toHaveText('SELECT *\n  FROM leads');
    // Underscores inside a word are not markup.
    await expect(sent.locator('.text')).toContainText('about snake_case_name,');
  };
  await styled(page);

  // Copy gives the text as written, markers and all, to paste it elsewhere.
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  const sent = message(page, word);
  await sent.click();
  await screenshot(page, testInfo, 'message-actions');
  // All of the toolbar is on the screen, a phone's too.
  const bar = (await sent.getByRole('toolbar', { name: 'Message actions' }).boundingBox())!;
  expect(bar.x).toBeGreaterThanOrEqual(0);
  expect(bar.x + bar.width).toBeLessThanOrEqual(page.viewportSize()!.width);
  await sent.getByRole('button', { name: 'Copy text' }).click();
  await expect(sent.getByRole('button', { name: 'Copied' })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(
    `call *${word}* about snake_case_name, _today_ ~not tomorrow~, run \`crm sync\`\n\`\`\`\nSELECT *\n  FROM leads\n\`\`\``,
  );
  await expect(sent.getByRole('button', { name: 'Copy text' })).toBeVisible();

  await styled(bob.page);
  // Rendered by the server, then hydrated: the same.
  await openThread(bob.page, path);
  await styled(bob.page);
  await screenshot(bob.page, testInfo, 'markup');
  await auditPart(bob.page, '[data-testid="message"]:has(pre)');

  // The list's preview shows the words without their markers.
  await bob.page.goto('/');
  await live(bob.page);
  await expect(bob.page.getByTestId('conversation').filter({ hasText: word })).toContainText(
    `call ${word} about snake_case_name, today not tomorrow, run \`crm sync\``,
  );

  // Slack's shortcodes arrive as emoji, except in code and in a time.
  const shipped = unique('shipped');
  await send(page, `${shipped} :rocket: at 10:30:00, see \`:tada:\``);
  await expect(message(page, shipped).locator('.text')).toHaveText(`${shipped} 🚀 at 10:30:00, see :tada:`);
  await expect(bob.page.getByTestId('conversation').filter({ hasText: shipped })).toContainText(`${shipped} 🚀 at 10:30:00, see \`:tada:\``);
  await bob.page.getByTestId('conversation').filter({ hasText: shipped }).click();
  await expect(message(bob.page, shipped).locator('.text')).toHaveText(`${shipped} 🚀 at 10:30:00, see :tada:`);
  await expect(message(bob.page, shipped).locator('.text > code')).toHaveText(':tada:');

  // A colon and two letters offer the emoji whose shortcodes fit; Enter or
  // Tab takes the first, Escape keeps the words as typed.
  const offered = page.getByRole('listbox', { name: 'Emoji' });
  const picked = unique('picked');
  await box.fill(`${picked} `);
  await box.pressSequentially(':rocke', { delay: 30 });
  await expect(offered.getByRole('option').first()).toHaveText('🚀:rocket:');
  await box.press('Enter');
  await expect(offered).toHaveCount(0);
  await expect(box).toHaveValue(`${picked} 🚀 `);
  await box.pressSequentially(':+1', { delay: 30 });
  await expect(offered.getByRole('option').first()).toHaveText('👍:+1:');
  await box.press('Tab');
  await box.pressSequentially('at 10:30', { delay: 30 });
  await expect(offered).toHaveCount(0);
  await box.pressSequentially(' :tad', { delay: 30 });
  await expect(offered.getByRole('option').first()).toHaveText('🎉:tada:');
  await box.press('Escape');
  await expect(offered).toHaveCount(0);
  await box.press('Enter');
  await expect(message(bob.page, picked).locator('.text')).toHaveText(`${picked} 🚀 👍 at 10:30 :tad`);

  // Lines that start with `> ` quote; `- ` and `1. ` make lists.
  // Shift+Enter on an item starts the next one, and on an empty one ends
  // the list.
  const listed = unique('listed');
  await box.fill(`${listed} notes:\n> the client asked *twice*\n- call @Bob Baker`);
  await box.press('Shift+Enter');
  await box.pressSequentially('send the quote');
  await box.press('Shift+Enter');
  await box.press('Shift+Enter');
  await box.pressSequentially('3. sign');
  await box.press('Shift+Enter');
  await box.pressSequentially('invoice');
  await box.press('Shift+Enter');
  await expect(box).toHaveValue(`${listed} notes:\n> the client asked *twice*\n- call @Bob Baker\n- send the quote\n3. sign\n4. invoice\n5. `);
  await box.press('Shift+Enter');
  await box.pressSequentially('thanks');
  await box.press('Enter');
  const lists = async (p: Page) => {
    const sent = message(p, listed);
    await expect(sent.locator('.text > blockquote')).toHaveText('the client asked twice');
    await expect(sent.locator('blockquote strong')).toHaveText('twice');
    await expect(sent.locator('.text > ul > li')).toHaveText(['call @Bob Baker', 'send the quote']);
    await expect(sent.locator('ul [data-testid="mention"]')).toHaveText('@Bob Baker');
    await expect(sent.locator('.text > ol')).toHaveAttribute('start', '3');
    await expect(sent.locator('.text > ol > li')).toHaveText(['sign', 'invoice']);
    // The lines around a block are not blank lines.
    await expect(sent.locator('.text')).toHaveText(
      `${listed} notes:the client asked twicecall @Bob Bakersend the quotesigninvoicethanks`,
    );
  };
  await lists(page);
  await lists(bob.page);
  await openThread(bob.page, path);
  await lists(bob.page);
  await screenshot(bob.page, testInfo, 'quotes-and-lists');
  await auditPart(bob.page, '[data-testid="message"]:has(blockquote)');
  // The preview leaves out the quote's mark and shows the items with a bullet.
  await bob.page.goto('/');
  await live(bob.page);
  await expect(bob.page.getByTestId('conversation').filter({ hasText: listed })).toContainText(
    `${listed} notes: the client asked twice • call @Bob Baker • send the quote`,
  );
});

test('the formatting bar styles the selection with a tap and keeps the box focused, for phones without Ctrl+B', async ({ page }, testInfo) => {
  await signIn(page, 'heidi@acme.test');
  await openDirectChat(page, 'Bob Baker');
  const box = page.getByLabel('Message', { exact: true });
  const word = unique('renewal');
  await box.fill(`ship the ${word} today`);
  const select = (w: string) =>
    box.evaluate((el: HTMLTextAreaElement, w) => {
      const at = el.value.indexOf(w);
      el.setSelectionRange(at, at + w.length);
    }, w);

  const toggle = page.getByRole('button', { name: 'Formatting' });
  const bar = page.getByRole('toolbar', { name: 'Formatting' });
  await expect(bar).toBeHidden();
  await select(word);
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-pressed', 'true');
  await expect(bar).toBeVisible();
  await expect(box).toBeFocused();
  await screenshot(page, testInfo, 'formatting-bar');
  await auditPart(page, 'form.composer');

  // A button puts its markers around the selection, and takes them away again.
  await bar.getByRole('button', { name: 'Bold' }).click();
  await expect(box).toHaveValue(`ship the *${word}* today`);
  await expect(box).toBeFocused();
  await bar.getByRole('button', { name: 'Bold' }).click();
  await expect(box).toHaveValue(`ship the ${word} today`);
  await bar.getByRole('button', { name: 'Italic' }).click();
  await select('today');
  await bar.getByRole('button', { name: 'Code' }).click();
  await select('ship');
  await bar.getByRole('button', { name: 'Strikethrough' }).click();
  await expect(box).toHaveValue(`~ship~ the _${word}_ \`today\``);
  await expect(box).toBeFocused();

  await box.press('Enter');
  const sent = message(page, word);
  await expect(sent.locator('em')).toHaveText(word);
  await expect(sent.locator('.text > code')).toHaveText('today');
  await expect(sent.locator('s')).toHaveText('ship');

  // The bar stays open for the next message, and after a reload, until it is closed.
  await expect(bar).toBeVisible();
  await page.reload();
  await live(page);
  await expect(bar).toBeVisible();
  await expect(toggle).toHaveAttribute('aria-pressed', 'true');
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-pressed', 'false');
  await expect(bar).toBeHidden();
  await page.reload();
  await live(page);
  await expect(bar).toBeHidden();
});

test('a conversation list read before a new group arrives does not hide the group when it lands after it', async ({ page, newPerson }) => {
  await signIn(page, 'alice@acme.test');
  const bob = await newPerson();
  await signIn(bob.page, 'bob@acme.test');

  // Each time its socket connects, a page asks for its list. Here the
  // server reads the list before Alice makes a group with Bob, and the
  // answer reaches Bob's new tab after the group's push.
  const url = '**/api/fn/conversations';
  const { tab, held } = await newTabHoldingFirstAnswer(bob.context, url);

  const title = unique('Renewals desk');
  await createGroup(page, title, ['Bob Baker']);
  const row = tab.getByTestId('conversation').filter({ hasText: title });
  await expect(row).toBeVisible();

  // The old list lands: the page merges it with what the socket pushed,
  // keeps the group, and needs no second answer.
  await landHeldAnswer(tab, url, held);
  await expect(row).toBeVisible();
  expect(held.asked()).toBe(1);
});
