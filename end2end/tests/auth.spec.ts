import { test, expect } from './fixtures';
import { DEMO_PASSWORD, hydrated, signIn } from './helpers';

test('a signed-out visitor is sent to the login page', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole('heading', { name: 'crm-chat' })).toBeVisible();
});

test('a user signs in, stays signed in across a reload, and signs out', async ({ page }) => {
  await signIn(page, 'dave@acme.test');
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId('who')).toContainText('Dave Diaz');
  await expect(page.getByTestId('who')).toContainText('Acme');

  await page.reload();
  await expect(page.getByTestId('who')).toContainText('Dave Diaz');

  await hydrated(page);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
});

test('the login page hydrates: the password can be revealed', async ({ page }) => {
  await page.goto('/login');
  const password = page.getByLabel('Password', { exact: true });
  await password.fill('secret');
  await expect(password).toHaveAttribute('type', 'password');
  // The toggle is a plain button; only the hydrated app gives it behaviour.
  await expect(async () => {
    await page.getByRole('button', { name: 'Show' }).click();
    await expect(password).toHaveAttribute('type', 'text', { timeout: 500 });
  }).toPass();
  await expect(page.getByRole('button', { name: 'Hide' })).toHaveAttribute('aria-pressed', 'true');
});

test('a wrong password shows an error on the page', async ({ page }) => {
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Email').fill('erin@acme.test');
  await page.getByLabel('Password', { exact: true }).fill(`${DEMO_PASSWORD}-wrong`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toContainText('email or password is incorrect');
  await expect(page).toHaveURL(/\/login$/);
});
