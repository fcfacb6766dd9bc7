import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { hydrated, live, message, openDirectChat, openThread, send, signIn, unique } from './helpers';

// An automated WCAG 2.2 A/AA audit (axe-core) of every main screen, in light
// and dark mode: contrast, names of buttons and fields, landmarks, ARIA. It
// cannot judge everything (focus order, whether a label makes sense), which
// the other specs check where it matters; what it can judge, it must pass.

const WCAG_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

/** Audits the page (or one part of it) as it is now; every screen is reported, then the test fails. */
async function audit(page: Page, screen: string, only?: string) {
  const axe = new AxeBuilder({ page }).withTags(WCAG_AA);
  const results = await (only ? axe.include(only) : axe).analyze();
  const violations = results.violations.map(
    (v) =>
      `${v.id} (${v.impact}): ${v.help}\n` +
      v.nodes.map((n) => `    ${n.target.join(' ')}: ${n.failureSummary?.replace(/\s+/g, ' ')}`).join('\n'),
  );
  expect.soft(violations, `WCAG A/AA violations on ${screen}`).toEqual([]);
}

for (const colorScheme of ['light', 'dark'] as const) {
  test(`every main screen passes a WCAG A/AA audit in ${colorScheme} mode`, async ({ page, context, newPerson }) => {
    await page.emulateMedia({ colorScheme });

    await page.goto('/login');
    await hydrated(page);
    await audit(page, 'the login page');

    await signIn(page, 'alice@acme.test');
    await live(page);
    await audit(page, 'the conversation list');

    // A thread with messages of both people, read ticks and a reaction.
    const path = await openDirectChat(page, 'Erin');
    const erin = await newPerson();
    await erin.page.emulateMedia({ colorScheme });
    await signIn(erin.page, 'erin@acme.test');
    await openThread(erin.page, path);
    const question = unique('question');
    await send(page, question);
    await expect(message(erin.page, question)).toBeVisible();
    const answer = unique('answer');
    await send(erin.page, answer);
    await expect(message(page, answer)).toBeVisible();
    await expect(message(page, question).getByTestId('ticks')).toHaveAttribute('data-state', 'read');
    await message(page, answer).click();
    await message(page, answer).getByRole('button', { name: 'React with 👍' }).click();
    await expect(message(page, answer).getByTestId('reaction')).toContainText('👍1');
    await audit(page, 'a thread');
    await message(page, question).click();
    await message(page, question).getByRole('button', { name: 'Delete' }).click();
    await expect(page.getByRole('button', { name: 'Delete for everyone' })).toBeVisible();
    await audit(page, 'a thread asking to confirm a delete');

    // The connection banners; "Back online" shows for 2.5 s, so only it is audited.
    await context.setOffline(true);
    await expect(page.getByText('Reconnecting…')).toBeVisible();
    await audit(page, 'a thread while offline');
    await context.setOffline(false);
    await expect(page.getByText('Back online')).toBeVisible({ timeout: 20_000 });
    await audit(page, 'the "Back online" banner', '.banner');

    await page.goto('/');
    await live(page);
    await page.getByRole('button', { name: 'New chat' }).click();
    await expect(page.getByRole('dialog', { name: 'New chat' })).toBeVisible();
    await audit(page, 'the new-chat dialog');
    await page.keyboard.press('Escape');

    await page.locator('#bell').click();
    await expect(page.getByRole('dialog', { name: 'Notifications' })).toBeVisible();
    await audit(page, 'the notification drawer');
    await page.keyboard.press('Escape');

    await page.goto('/settings');
    await hydrated(page);
    await expect(page.getByRole('heading', { name: 'Settings' })).toBeVisible();
    await page.getByLabel('New key for').fill(unique('Audit'));
    await page.getByRole('button', { name: 'Create key' }).click();
    await expect(page.getByTestId('new-api-key')).toBeVisible();
    await expect(page.getByRole('button', { name: 'Revoke' }).first()).toBeVisible();
    await audit(page, 'the settings page, with an API key');
  });
}
