import { test, expect } from './fixtures';
import { forgiveOfflineErrors, live, message, openDirectChat, openThread, screenshot, send, signIn, unique } from './helpers';

test('a voice message is recorded, sent, and plays on the other side with its length; a cancelled one is not sent', async ({ page, newPerson }, testInfo) => {
  await signIn(page, 'erin@acme.test');
  const frank = await newPerson();
  await signIn(frank.page, 'frank@acme.test');
  const path = await openDirectChat(page, 'Frank Fisher');
  await openThread(frank.page, path);

  // An empty box offers the microphone where Send stands once there is text.
  const box = page.getByLabel('Message', { exact: true });
  const record = page.getByRole('button', { name: 'Record a voice message' });
  await expect(record).toBeVisible();
  await expect(page.getByRole('button', { name: 'Send', exact: true })).toHaveCount(0);
  await box.fill('x');
  await expect(page.getByRole('button', { name: 'Send', exact: true })).toBeVisible();
  await expect(record).toHaveCount(0);
  await box.fill('');

  // The conversation may hold another run's voice messages (the other device's).
  const audio = frank.page.locator('audio[aria-label^="Voice message"]');
  const before = await audio.count();
  await record.click();
  const timer = page.getByRole('timer', { name: 'Recording time' });
  await expect(timer).toHaveText('0:01', { timeout: 5_000 });
  await expect(box).toBeHidden();
  await screenshot(page, testInfo, 'voice-recording');
  await page.getByRole('button', { name: 'Send voice message' }).click();
  await expect(box).toBeVisible();

  await expect(audio).toHaveCount(before + 1);
  const voice = audio.last();
  // WebM from a browser's recorder does not say how long it is; the player
  // finds out, so it shows the length and can seek.
  await expect
    .poll(() => voice.evaluate((a: HTMLAudioElement) => (Number.isFinite(a.duration) ? a.duration : 0)), { timeout: 10_000 })
    .toBeGreaterThan(0.5);
  expect(await voice.evaluate((a: HTMLAudioElement) => a.currentTime)).toBe(0);
  const src = await voice.getAttribute('src');
  const file = await frank.page.request.get(src!);
  expect(file.headers()['content-type']).toBe('audio/webm');
  await screenshot(frank.page, testInfo, 'voice-received');

  // Recorded and thrown away, with the bin or with Escape: nothing goes out.
  await record.click();
  await expect(timer).toBeVisible();
  await page.getByRole('button', { name: 'Cancel recording' }).click();
  await expect(record).toBeVisible();
  await record.click();
  await expect(page.getByRole('button', { name: 'Send voice message' })).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(record).toBeVisible();
  const after = unique('after the voice note');
  await send(page, after);
  await expect(message(frank.page, after)).toBeVisible();
  await expect(audio).toHaveCount(before + 1);
});

test('a voice message that could not be uploaded waits to be sent again, and then arrives', async ({ page, newPerson, consoleErrors }) => {
  await signIn(page, 'heidi@acme.test');
  const dave = await newPerson();
  await signIn(dave.page, 'dave@acme.test');
  const path = await openDirectChat(page, 'Dave Diaz');
  await openThread(dave.page, path);
  const audio = dave.page.locator('audio[aria-label^="Voice message"]');
  const before = await audio.count();

  await page.getByRole('button', { name: 'Record a voice message' }).click();
  await expect(page.getByRole('timer', { name: 'Recording time' })).toHaveText('0:01', { timeout: 5_000 });
  await page.context().setOffline(true);
  await page.getByRole('button', { name: 'Send voice message' }).click();
  await expect(page.getByRole('alert')).toContainText('check your connection');
  await expect(page.getByText('Your voice message has not been sent.')).toBeVisible();

  await page.context().setOffline(false);
  await live(page);
  await page.getByRole('button', { name: 'Send it again' }).click();
  await expect(page.getByText('Your voice message has not been sent.')).toBeHidden();
  await expect(audio).toHaveCount(before + 1);
  forgiveOfflineErrors(consoleErrors);
});
