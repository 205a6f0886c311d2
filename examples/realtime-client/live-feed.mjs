// A dashboard's live feed: prints every event of the topics named on the command line as one
// JSON line. FLOWGATE_URL is the server, FLOWGATE_TOKEN an access token or
// FLOWGATE_API_KEY an API key (see docs/realtime.md). Example: node live-feed.mjs executions consent
import { clearTimeout, setTimeout } from 'node:timers';
import { io } from 'socket.io-client';

const topics = process.argv.slice(2);
const socket = io(process.env.FLOWGATE_URL ?? 'http://127.0.0.1:3000', {
  auth: process.env.FLOWGATE_API_KEY ? { apiKey: process.env.FLOWGATE_API_KEY } : { token: process.env.FLOWGATE_TOKEN },
});
const retry = { attempt: 0, timer: undefined };

// Subscriptions end with the connection: subscribe again on every (re)connect.
socket.on('connect', async () => {
  retry.attempt = 0;
  const { subscribed, denied } = await socket.emitWithAck('subscribe', topics);
  console.error(`subscribed: ${subscribed.join(', ') || 'nothing'}`);
  for (const { topic, reason } of denied) console.error(`denied: ${topic} (${reason})`);
});
// Every payload carries its topic, event name and time (`at`) besides the event's own fields.
socket.onAny((event, payload) => { if (!event.startsWith('session.')) console.log(JSON.stringify(payload)); });

// The server could not check the credentials (its database unreachable): they were not found bad,
// but Socket.IO does not retry by itself. Connect again, 1 s doubling to 30 s, with jitter.
function reconnectLater(cause, reason) {
  const ceilingMs = Math.min(30_000, 1_000 * 2 ** retry.attempt++);
  const delayMs = Math.round(ceilingMs / 2 + Math.random() * ceilingMs / 2);
  console.error(JSON.stringify({ reconnecting: true, cause, reason, delayMs }));
  retry.timer = setTimeout(() => socket.connect(), delayMs);
}
socket.on('session.unverified', ({ reason }) => {
  socket.disconnect(); // the server closes it next: retry from a closed socket
  reconnectLater('session.unverified', reason);
});
socket.on('connect_error', (error) => {
  if (error.message === 'UNAVAILABLE') return reconnectLater('UNAVAILABLE', error.data?.message);
  console.error(`cannot connect: ${error.message}${error.data?.message ? `: ${error.data.message}` : ''}`);
  if (!socket.active) process.exit(1); // bad credentials: retrying will not help
});
socket.on('session.revoked', ({ reason }) => {
  console.error(`session revoked: ${reason}`);
  process.exit(1);
});
process.once('SIGINT', () => {
  clearTimeout(retry.timer);
  socket.close();
});
