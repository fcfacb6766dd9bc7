import { test, expect } from './fixtures';
import { auditPart, createGroup, live, message, openThread, screenshot, send, signIn, unique } from './helpers';

test('a pinned message shows in a bar for everyone, and a tap on the bar shows it and moves on to the next', async ({ page, newPerson }, testInfo) => {
  await signIn(page, 'frank@acme.test');
  const group = await createGroup(page, unique('Initech deal'), ['Erin']);
  const terms = unique('Terms: net 30');
  const call = unique('Call Initech Friday at ten');
  await send(page, terms);
  await send(page, call);
  await send(page, unique('Anything else?'));

  const erin = await newPerson();
  await signIn(erin.page, 'erin@acme.test');
  await openThread(erin.page, group);
  const everyone = [page, erin.page];

  // Frank pins the terms: both see the bar, and the mark on the message.
  await message(page, terms).click();
  await message(page, terms).getByRole('button', { name: 'Pin', exact: true }).click();
  for (const p of everyone) {
    const bar = p.getByTestId('pinned-bar');
    await expect(bar).toContainText('Pinned message');
    await expect(bar).toContainText(`Frank Fisher: ${terms}`);
    await expect(message(p, terms).getByRole('img', { name: 'Pinned by Frank Fisher' })).toBeVisible();
  }

  // Erin pins the call too: the last pinned comes first.
  await message(erin.page, call).click();
  await message(erin.page, call).getByRole('button', { name: 'Pin', exact: true }).click();
  for (const p of everyone) {
    await expect(p.getByTestId('pinned-bar')).toContainText('Pinned message 1 of 2');
    await expect(p.getByTestId('pinned-bar')).toContainText(call);
  }
  await screenshot(erin.page, testInfo, 'pinned-messages');
  await auditPart(erin.page, '.pinned-bar');

  // A tap shows the call in the thread, and the bar moves on to the terms.
  await erin.page.getByTestId('pinned-bar').getByRole('button', { name: /Pinned message 1 of 2/ }).click();
  await expect(message(erin.page, call)).toHaveClass(/highlight/);
  await expect(erin.page.getByTestId('pinned-bar')).toContainText('Pinned message 2 of 2');
  await expect(erin.page.getByTestId('pinned-bar')).toContainText(terms);

  // Pins are stored: a reload shows them as they were.
  await page.reload();
  await live(page);
  await expect(page.getByTestId('pinned-bar')).toContainText('Pinned message 1 of 2');

  // Unpinning from the bar takes the call off for both; deleting the terms
  // takes the last pin with it.
  await page.getByTestId('pinned-bar').getByRole('button', { name: 'Unpin' }).click();
  for (const p of everyone) {
    await expect(p.getByTestId('pinned-bar')).not.toContainText(call);
    await expect(p.getByTestId('pinned-bar')).toContainText(terms);
    await expect(message(p, call).getByRole('img', { name: /Pinned by/ })).toHaveCount(0);
  }
  await message(page, terms).click();
  await message(page, terms).getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('button', { name: 'Delete for everyone' }).click();
  for (const p of everyone) {
    await expect(p.getByTestId('pinned-bar')).toHaveCount(0);
  }
});
