import { test, expect } from './fixtures';
import { auditPart, createGroup, live, message, openThread, screenshot, send, signIn, unique } from './helpers';

test('Alt and the arrows move through the list, and Alt+Shift opens the nearest unread conversation', async ({ page, newPerson }, testInfo) => {
  test.skip(testInfo.project.name === 'mobile', 'the list beside the thread, and a keyboard');
  // Three groups of our own, and a filter that shows only them: the rest of
  // Heidi's list (other tests') stays out of the way.
  const tag = unique('kb');
  await signIn(page, 'heidi@acme.test');
  const a = await createGroup(page, `${tag} a`, ['Bob']);
  const b = await createGroup(page, `${tag} b`, ['Bob']);
  const c = await createGroup(page, `${tag} c`, ['Bob']);
  await page.getByRole('searchbox', { name: 'Search conversations and messages' }).fill(tag);
  const rows = page.getByTestId('conversation');
  await expect(rows).toHaveCount(3);

  // Newest first: c, b, a. From c down to a, and no further.
  await expect(page).toHaveURL(c);
  await page.keyboard.press('Alt+ArrowDown');
  await expect(page).toHaveURL(b);
  await page.keyboard.press('Alt+ArrowDown');
  await expect(page).toHaveURL(a);
  await expect(rows.filter({ hasText: `${tag} a` })).toHaveAttribute('aria-current', 'page');
  await page.keyboard.press('Alt+ArrowDown');
  await page.keyboard.press('Alt+ArrowUp');
  await expect(page).toHaveURL(b);

  // Bob writes in a, which goes to the top, unread: a, c, b. From b, the
  // nearest unread conversation downwards is round the end of the list.
  const bob = await newPerson();
  await signIn(bob.page, 'bob@acme.test');
  await openThread(bob.page, a);
  const words = unique('Pipeline review at four');
  await send(bob.page, words);
  await expect(rows.first()).toHaveAccessibleName(new RegExp(`${tag} a.*1 unread`));
  await page.keyboard.press('Alt+Shift+ArrowDown');
  await expect(page).toHaveURL(a);
  await expect(message(page, words)).toBeVisible();
  // Read now: Alt+Shift finds nothing more, and stays.
  await expect(rows.first()).not.toHaveAccessibleName(/unread/);
  await page.keyboard.press('Alt+Shift+ArrowUp');
  await page.keyboard.press('Alt+ArrowDown');
  await expect(page).toHaveURL(c);
  await live(page);
});

test('Ctrl+/ lists the keyboard shortcuts, and Escape closes the list', async ({ page }, testInfo) => {
  await signIn(page, 'frank@acme.test');
  await live(page);
  await page.keyboard.press('Control+/');
  const dialog = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole('definition').filter({ hasText: 'Open the nearest unread conversation' })).toBeVisible();
  await expect(dialog.getByRole('button', { name: 'Close' })).toBeFocused();
  await screenshot(page, testInfo, 'keyboard-shortcuts');
  await auditPart(page, '.shortcuts');
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();

  // The top bar's keyboard button, where there is a keyboard to use them
  // with: not on a touch screen.
  const button = page.getByRole('button', { name: 'Keyboard shortcuts' });
  if (testInfo.project.name === 'mobile') {
    await expect(button).toBeHidden();
  } else {
    await button.click();
    await expect(dialog).toBeVisible();
    await page.keyboard.press('Control+/');
    await expect(dialog).toBeHidden();
  }
});
