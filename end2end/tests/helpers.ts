import AxeBuilder from '@axe-core/playwright';
import type { BrowserContext, Page, TestInfo } from '@playwright/test';
import { expect } from './fixtures';

export const DEMO_PASSWORD = 'crm-chat-demo';

/** Waits until the WASM app has hydrated the server-rendered page. */
export async function hydrated(page: Page) {
  await page.locator('html[data-hydrated="true"]').waitFor();
}

/** Waits until the page's WebSocket has resumed and is live. */
export async function live(page: Page) {
  await page.locator('html[data-link="live"]').waitFor();
}

/**
 * Forgets the console errors of requests that failed because the test took
 * the browser offline: those are expected and logged, as they should be.
 * Everything else (a panic, a trap) stays and fails the test.
 */
export function forgiveOfflineErrors(consoleErrors: string[]) {
  forgive(consoleErrors, /ERR_INTERNET_DISCONNECTED|TypeError: Failed to fetch/);
}

/** Forgets the console errors of requests the test aborted (`route.abort()`). */
export function forgiveAbortedRequests(consoleErrors: string[]) {
  forgive(consoleErrors, /Failed to load resource: net::ERR_FAILED/);
}

function forgive(consoleErrors: string[], expected: RegExp) {
  const unexpected = consoleErrors.filter((e) => !expected.test(e));
  consoleErrors.splice(0, consoleErrors.length, ...unexpected);
}

/** Signs in through the login form and waits for the app shell. */
export async function signIn(page: Page, email: string, password = DEMO_PASSWORD) {
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('who')).toBeVisible();
}

/** A unique word, so that tests sharing one database never see each other's messages. */
export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** Opens (or creates) the direct conversation with someone; returns its path. */
export async function openDirectChat(page: Page, name: string): Promise<string> {
  await page.goto('/');
  await live(page);
  await page.getByRole('button', { name: 'New chat' }).click();
  const dialog = page.getByRole('dialog', { name: 'New chat' });
  await dialog.getByLabel('Find a person').fill(name.split(' ')[0]);
  await dialog.getByRole('button', { name: new RegExp(name) }).click();
  await expect(page).toHaveURL(/\/c\/\d+$/);
  await live(page);
  return new URL(page.url()).pathname;
}

/** Creates a group with these members through "New group" and opens it; returns its path. */
export async function createGroup(page: Page, title: string, members: string[]): Promise<string> {
  await page.goto('/');
  await live(page);
  await page.getByRole('button', { name: 'New group' }).click();
  const dialog = page.getByRole('dialog', { name: 'New group' });
  await dialog.getByLabel('Group name').fill(title);
  for (const name of members) await dialog.getByRole('checkbox', { name: new RegExp(name) }).check();
  await dialog.getByRole('button', { name: 'Create group' }).click();
  await expect(page).toHaveURL(/\/c\/\d+$/);
  await live(page);
  return new URL(page.url()).pathname;
}

/** Opens a conversation by its path and waits until it is live. */
export async function openThread(page: Page, path: string) {
  await page.goto(path);
  await hydrated(page);
  await live(page);
}

/** Types a message and sends it with Enter. */
export async function send(page: Page, text: string) {
  const box = page.getByLabel('Message', { exact: true });
  await box.fill(text);
  await box.press('Enter');
}

/** The message whose own text (not a quote of it) contains this. */
export function message(page: Page, text: string) {
  return page.getByTestId('message').filter({ has: page.locator('.text', { hasText: text }) });
}

/** Saves a screenshot for people to look at (git-ignored). */
export async function screenshot(page: Page, testInfo: TestInfo, name: string) {
  await page.screenshot({ path: `screenshots/${testInfo.project.name}-${name}.png`, fullPage: false });
}

/** Fails on any WCAG 2.2 A/AA violation (axe-core) in one part of the page, in light and dark mode. */
export async function auditPart(page: Page, selector: string) {
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    const audit = await new AxeBuilder({ page })
      .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'])
      .include(selector)
      .analyze();
    expect(audit.violations.map((v) => v.id), `WCAG A/AA violations of ${selector}, ${colorScheme}`).toEqual([]);
  }
  await page.emulateMedia({ colorScheme: null });
}

/**
 * Holds back the answer to the page's first request to `url`: the server
 * reads it at once (`read` resolves then), and the page gets it only after
 * `release()`, the order a slow network gives. Later requests pass through;
 * `asked()` counts them all.
 */
export async function holdFirstAnswer(page: Page, url: string) {
  let asked = 0;
  let answered!: () => void;
  const read = new Promise<void>((resolve) => (answered = resolve));
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route(url, async (route) => {
    asked += 1;
    if (asked > 1) return route.continue();
    const response = await route.fetch();
    answered();
    await held;
    await route.fulfill({ response });
  });
  return { read, release, asked: () => asked };
}

/**
 * Opens the chat in a new tab of `context` whose first request to `url` is
 * held (`holdFirstAnswer`), and waits until the server has answered it. A
 * new tab, so that the answer held is its own and not one from a page
 * before it.
 */
export async function newTabHoldingFirstAnswer(context: BrowserContext, url: string) {
  const tab = await context.newPage();
  const held = await holdFirstAnswer(tab, url);
  await tab.goto('/');
  await held.read;
  return { tab, held };
}

/**
 * Releases an answer held by `holdFirstAnswer` and waits until the page has
 * applied it: the response is in and two frames have painted.
 */
export async function landHeldAnswer(page: Page, url: string, held: { release: () => void }) {
  const late = page.waitForResponse(url);
  held.release();
  await (await late).finished();
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
}
