import { test, expect } from './fixtures';
import { auditPart, createGroup, live, message, screenshot, signIn, unique } from './helpers';

test('@ in a group offers its members, and the person mentioned sees their name stand out', async ({ page, newPerson }, testInfo) => {
  await signIn(page, 'alice@acme.test');
  const bob = await newPerson();
  await signIn(bob.page, 'bob@acme.test');
  const title = unique('Initech deal');
  const path = await createGroup(page, title, ['Bob Baker', 'Dave Diaz']);
  await bob.page.goto('/');
  await live(bob.page);

  const box = page.getByLabel('Message', { exact: true });
  const menu = page.getByRole('listbox', { name: 'People to mention' });
  const options = menu.getByRole('option');

  // "@" alone offers everyone but Alice herself, then "@all"; the arrows
  // move the choice.
  await box.pressSequentially('@');
  await expect(options).toHaveText(['Bob Baker', 'Dave Diaz', 'all']);
  await expect(options.first()).toHaveAttribute('aria-selected', 'true');
  await expect(box).toHaveAttribute('aria-activedescendant', 'mention-option-0');
  await expect(box).toHaveAttribute('aria-controls', 'mention-options');
  await box.press('ArrowDown');
  await expect(options.nth(1)).toHaveAttribute('aria-selected', 'true');
  await expect(box).toHaveAttribute('aria-activedescendant', 'mention-option-1');
  await auditPart(page, '.composer');
  await screenshot(page, testInfo, 'mention-menu');

  // Escape closes the list and keeps what was typed.
  await box.press('Escape');
  await expect(menu).toHaveCount(0);
  await expect(box).toHaveValue('@');
  await expect(box).not.toHaveAttribute('aria-activedescendant');
  await expect(box).not.toHaveAttribute('aria-controls');

  // Moving the caret away from the mention closes the list too.
  await box.pressSequentially('b');
  await expect(options).toHaveText(['Bob Baker']);
  await box.press('ArrowLeft');
  await expect(menu).toHaveCount(0);
  await box.press('End');
  await box.press('Backspace');

  // A few letters of any word of a name narrow it; Tab takes the name.
  await box.pressSequentially('ba');
  await expect(options).toHaveText(['Bob Baker']);
  await box.press('Tab');
  await expect(menu).toHaveCount(0);
  await expect(box).toHaveValue('@Bob Baker ');
  await expect(box).toBeFocused();

  // A click takes one too, and Enter then sends.
  await box.pressSequentially('can you call Initech with @di');
  await options.filter({ hasText: 'Dave Diaz' }).click();
  await expect(box).toHaveValue('@Bob Baker can you call Initech with @Dave Diaz ');
  await box.press('Enter');

  // Both mentions are marked for Alice, neither as hers.
  const sent = message(page, 'can you call Initech');
  await expect(sent.getByTestId('mention')).toHaveText(['@Bob Baker', '@Dave Diaz']);
  await expect(sent.locator('.mention.me')).toHaveCount(0);

  // Bob's list marks the group with "@" as the message arrives, and again
  // after a reload, from the server.
  const bobsRow = bob.page.getByTestId('conversation').filter({ hasText: title });
  await expect(bobsRow.getByTestId('mention-badge')).toBeVisible();
  await expect(bobsRow).toHaveAccessibleName(/ unread, mentions you$/);
  await bob.page.reload();
  await live(bob.page);
  await expect(bobsRow.getByTestId('mention-badge')).toBeVisible();
  await auditPart(bob.page, 'aside.sidebar');

  // In the thread Bob's own name stands out, and so does the message; read, the "@" goes.
  await bobsRow.click();
  await expect(bob.page).toHaveURL(new RegExp(`${path}$`));
  const received = message(bob.page, 'can you call Initech');
  await expect(received.locator('.mention.me')).toHaveText('@Bob Baker');
  await expect(received).toHaveClass(/mentions-me/);
  await auditPart(bob.page, 'li.mentions-me');
  await screenshot(bob.page, testInfo, 'mention');
  await expect(bobsRow.getByTestId('mention-badge')).toHaveCount(0);

  // An address is not a mention, and Enter sends it at once.
  await box.pressSequentially('mail bob@acme.test');
  await expect(menu).toHaveCount(0);
  await box.press('Enter');
  await expect(message(bob.page, 'mail bob@acme.test').getByTestId('mention')).toHaveCount(0);

  // "@all" is offered by its first letters and names everyone, Bob included.
  await box.pressSequentially('@al');
  await expect(options).toHaveText(['all']);
  await box.press('Tab');
  await box.pressSequentially('the deal closes Friday');
  await expect(box).toHaveValue('@all the deal closes Friday');
  await box.press('Enter');
  const toAll = message(bob.page, 'the deal closes Friday');
  await expect(toAll.locator('.mention.me')).toHaveText('@all');
  await expect(toAll).toHaveClass(/mentions-me/);
});
