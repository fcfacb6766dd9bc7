// Debian's Chromium. Without the background-networking flags it stalls on
// connections this machine's closed network refuses. The fake media flags
// give getUserMedia a microphone that plays a tone, allowed without asking
// (voice messages).
export const chromium = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
  ],
};
