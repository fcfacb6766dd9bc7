import { test as base, expect } from '@playwright/test';

/**
 * Every test fails when the page logs a console error or throws: that catches
 * CSP violations, failed hydration and WASM panics, which would otherwise
 * only show as a page that silently stopped working. Chromium also logs every
 * 4xx response; an expected refusal (a wrong password's 401) is not a fault.
 */
const EXPECTED_REFUSAL = /^Failed to load resource: the server responded with a status of 4\d\d/;

export const test = base.extend<{ consoleErrors: string[] }>({
  consoleErrors: [
    async ({ context }, use) => {
      const errors: string[] = [];
      const watch = (page: import('@playwright/test').Page) => {
        page.on('console', (message) => {
          if (message.type() === 'error' && !EXPECTED_REFUSAL.test(message.text())) errors.push(message.text());
        });
        page.on('pageerror', (error) => errors.push(String(error)));
      };
      context.pages().forEach(watch);
      context.on('page', watch);
      await use(errors);
      expect(errors, 'the browser console stayed free of errors').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
