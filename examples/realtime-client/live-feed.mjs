// A dashboard's live feed in 20 lines: prints every event of the topics named on the command
// line as one JSON line. FLOWGATE_URL is the server, FLOWGATE_TOKEN an access token or
// FLOWGATE_API_KEY an API key (see docs/realtime.md). Example: node live-feed.mjs executions consent
import { io } from 'socket.io-client';

const topics = process.argv.slice(2);
const socket = io(process.env.FLOWGATE_URL ?? 'http://127.0.0.1:3000', {
  auth: process.env.FLOWGATE_API_KEY ? { apiKey: process.env.FLOWGATE_API_KEY } : { token: process.env.FLOWGATE_TOKEN },
});

// Subscriptions end with the connection: subscribe again on every (re)connect.
socket.on('connect', async () => {
  const { subscribed, denied } = await socket.emitWithAck('subscribe', topics);
  console.error(`subscribed: ${subscribed.join(', ') || 'nothing'}`);
  for (const { topic, reason } of denied) console.error(`denied: ${topic} (${reason})`);
});
// Every payload carries its topic, event name and time (`at`) besides the event's own fields.
socket.onAny((_event, payload) => console.log(JSON.stringify(payload)));
socket.on('connect_error', (error) => {
  console.error(`cannot connect: ${error.message}${error.data?.message ? `: ${error.data.message}` : ''}`);
  if (!socket.active) process.exit(1); // refused by the server: retrying will not help
});
socket.on('session.revoked', () => process.exit(1));
process.once('SIGINT', () => socket.close());
