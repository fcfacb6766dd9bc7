import { test, expect } from './fixtures';
import { message, openDirectChat, openThread, screenshot, send, signIn, unique } from './helpers';

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

  // Recorded and thrown away: nothing goes out.
  await record.click();
  await expect(timer).toBeVisible();
  await page.getByRole('button', { name: 'Cancel recording' }).click();
  await expect(record).toBeVisible();
  const after = unique('after the voice note');
  await send(page, after);
  await expect(message(frank.page, after)).toBeVisible();
  await expect(audio).toHaveCount(before + 1);
});
