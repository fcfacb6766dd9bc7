import { test as base, expect, type BrowserContext, type Page } from '@playwright/test';

/**
 * Every test fails when a page logs a console error or throws: that catches
 * CSP violations, failed hydration and WASM panics, which would otherwise
 * only show as a page that silently stopped working. Chromium also logs every
 * 4xx response; an expected refusal (a wrong password's 401, a conversation
 * that is not found) is not a fault.
 */
const EXPECTED_REFUSAL = /^Failed to load resource: the server responded with a status of 4\d\d/;

/** Someone else at a browser of their own. */
export type Person = { context: BrowserContext; page: Page };

type Fixtures = {
  consoleErrors: string[];
  /** Opens a new browser context (another person) with this project's device. */
  newPerson: () => Promise<Person>;
};

function watch(page: Page, errors: string[]) {
  page.on('console', (message) => {
    if (message.type() === 'error' && !EXPECTED_REFUSAL.test(message.text())) errors.push(`${page.url()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`${page.url()}: ${String(error)}`));
}

export const test = base.extend<Fixtures>({
  consoleErrors: [
    async ({ context }, use) => {
      const errors: string[] = [];
      context.pages().forEach((page) => watch(page, errors));
      context.on('page', (page) => watch(page, errors));
      await use(errors);
      expect(errors, 'the browser console stayed free of errors').toEqual([]);
    },
    { auto: true },
  ],
  newPerson: async ({ browser, consoleErrors }, use, testInfo) => {
    const contexts: BrowserContext[] = [];
    await use(async () => {
      const options = testInfo.project.use;
      const context = await browser.newContext({
        baseURL: options.baseURL,
        viewport: options.viewport,
        userAgent: options.userAgent,
        deviceScaleFactor: options.deviceScaleFactor,
        isMobile: options.isMobile,
        hasTouch: options.hasTouch,
      });
      context.on('page', (page) => watch(page, consoleErrors));
      contexts.push(context);
      return { context, page: await context.newPage() };
    });
    for (const context of contexts) await context.close();
  },
});

export { expect };
