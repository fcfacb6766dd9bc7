import { test, expect } from './fixtures';
import { createGroup, forgiveOfflineErrors, live, openThread, screenshot, signIn, unique } from './helpers';

test('a group admin adds, promotes and removes members and renames the group; a member sees it live and leaves', async ({ page, context, consoleErrors, newPerson }, testInfo) => {
  await signIn(page, 'alice@acme.test');
  const bob = await newPerson();
  await signIn(bob.page, 'bob@acme.test');

  // Alice creates a group with Bob, and both have it open.
  const path = await createGroup(page, unique('Pipeline review'), ['Bob Baker']);
  await openThread(bob.page, path);
  const systemLine = (p: typeof page, text: string) => p.locator('li.system-message', { hasText: text });

  // Alice opens the group's info: two members, she is its admin.
  await page.getByRole('button', { name: 'Group info' }).click();
  const info = page.getByRole('dialog', { name: 'Group info' });
  const members = info.getByRole('list', { name: 'Members' }).getByTestId('member');
  await expect(members).toHaveCount(2);
  await expect(info.getByRole('heading', { name: '2 members' })).toBeVisible();
  await expect(members.filter({ hasText: 'Alice Admin (you)' })).toContainText('Admin');

  // She adds Dave, who is not in the group yet.
  await info.getByLabel('Add people').fill('Dave');
  await info.getByRole('button', { name: 'Add Dave Diaz' }).click();
  await expect(members).toHaveCount(3);
  await expect(info.getByRole('list', { name: 'People to add' })).not.toContainText('Dave Diaz');
  await expect(systemLine(bob.page, 'Alice Admin added Dave Diaz')).toBeVisible();

  // Offline, a role change fails: the dialog says so, and the select shows
  // Dave's role again rather than the one that was never made.
  await context.setOffline(true);
  await info.getByLabel('Role of Dave Diaz').selectOption('moderator');
  await expect(info.getByRole('alert')).toBeVisible();
  await expect(info.getByLabel('Role of Dave Diaz')).toHaveValue('member');
  await context.setOffline(false);
  forgiveOfflineErrors(consoleErrors);
  await live(page);

  // She makes Bob an admin too; Bob's own info dialog lets him manage the group.
  await info.getByLabel('Role of Bob Baker').selectOption('admin');
  await expect(systemLine(bob.page, 'Alice Admin made Bob Baker an admin')).toBeVisible();
  await bob.page.getByRole('button', { name: 'Group info' }).click();
  const bobsInfo = bob.page.getByRole('dialog', { name: 'Group info' });
  await expect(bobsInfo.getByLabel('Role of Dave Diaz')).toBeVisible();

  // She removes Dave and renames the group; Bob's dialog and header follow live.
  await info.getByRole('button', { name: 'Remove Dave Diaz' }).click();
  await expect(bobsInfo.getByTestId('member')).toHaveCount(2);
  const renamed = unique('Q3 pipeline');
  await info.getByLabel('Group name').fill(renamed);
  await info.getByRole('button', { name: 'Rename' }).click();
  await expect(bob.page.locator('#thread-title')).toHaveText(renamed);
  await expect(systemLine(bob.page, `renamed the group to “${renamed}”`)).toBeVisible();
  await screenshot(page, testInfo, 'group-info');

  // Bob leaves (after confirming): the group leaves his list, and Alice sees him go.
  await bobsInfo.getByRole('button', { name: 'Leave group' }).click();
  await bobsInfo.getByRole('button', { name: 'Leave', exact: true }).click();
  await expect(bob.page).toHaveURL(/\/$/);
  await expect(bob.page.getByRole('link', { name: new RegExp(renamed) })).toHaveCount(0);
  await expect(members).toHaveCount(1);
  await expect(systemLine(page, 'Bob Baker left')).toBeVisible();

  // Escape closes Alice's dialog.
  await page.keyboard.press('Escape');
  await expect(info).toBeHidden();
});
