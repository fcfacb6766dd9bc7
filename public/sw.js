// crm-chat's service worker: system notifications only. It caches nothing
// and handles no requests.
//
// The page posts an alert ({title, body, tag, url}) when a message or a CRM
// notification arrives while nobody is looking at it; this shows it unless
// another crm-chat window has the focus. A click brings crm-chat forward at
// the alert's page, or opens it.

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('message', (event) => {
  const alert = event.data;
  if (!alert || typeof alert.title !== 'string') return;
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      if (windows.some((w) => w.focused && w.visibilityState === 'visible')) return;
      await self.registration.showNotification(alert.title, {
        body: alert.body,
        tag: alert.tag,
        data: { url: alert.url },
        icon: '/icons/icon-192.png',
      });
    })(),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = new URL(event.notification.data?.url || '/', self.location.origin);
  event.waitUntil(
    (async () => {
      if (url.origin !== self.location.origin) {
        await self.clients.openWindow(url.href);
        return;
      }
      const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      const open = windows.find((w) => w.visibilityState === 'visible') || windows[0];
      if (!open) {
        await self.clients.openWindow(url.href);
        return;
      }
      // Told where to go first: a browser may refuse the focus (it allows
      // it only while the click is fresh), and the tab should be there anyway.
      open.postMessage({ open: url.pathname + url.search + url.hash });
      await open.focus().catch(() => {});
    })(),
  );
});
