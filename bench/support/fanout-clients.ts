/**
 * The subscribers of bench/fanout.ts, in a process of their own so that their work does not
 * share the server's event loop: CLIENTS `socket.io-client` connections (websocket transport)
 * to URL, each subscribed to the `greetings` topic. Each delivery's latency is the receive time
 * minus the `sentAt` the server put in the event (same machine, same clock). Talks to its parent
 * over IPC: 'ready' once every client is subscribed; on 'report' it answers with a histogram of the
 * latencies received since the last report and how many deliveries each event had.
 */
import { io, type Socket } from 'socket.io-client';

const url = process.env.URL as string;
const clients = Number(process.env.CLIENTS ?? 1000);
const sockets: Socket[] = [];
/** Deliveries by latency in whole milliseconds (the last bucket: 10 s or more). */
let histogram = new Array<number>(10_001).fill(0);
let deliveries = new Map<number, number>();

for (let i = 0; i < clients; i++) {
  const socket = io(url, { transports: ['websocket'], auth: { token: 'role:owner' }, reconnection: false, forceNew: true });
  socket.on('greeting.created', (event: { sentAt: number; n: number }) => {
    const ms = Math.max(0, Math.min(10_000, Math.round(Date.now() - event.sentAt)));
    histogram[ms] = (histogram[ms] ?? 0) + 1;
    deliveries.set(event.n, (deliveries.get(event.n) ?? 0) + 1);
  });
  sockets.push(socket);
  // Connect in small batches: a thousand handshakes at once only measures the accept queue.
  if (i % 50 === 49) await new Promise((r) => setTimeout(r, 50));
}
await Promise.all(sockets.map((socket) => new Promise<void>((resolve, reject) => {
  if (socket.connected) return resolve();
  socket.once('connect', () => resolve());
  socket.once('connect_error', reject);
})));
await Promise.all(sockets.map((socket) => socket.emitWithAck('subscribe', ['greetings'])));
process.send?.({ kind: 'ready' });

process.on('message', (message: { kind: string }) => {
  if (message.kind === 'report') {
    process.send?.({ kind: 'report', histogram, perEvent: [...deliveries.values()] });
    histogram = new Array<number>(10_001).fill(0);
    deliveries = new Map();
  } else if (message.kind === 'stop') {
    for (const socket of sockets) socket.disconnect();
    process.exit(0);
  }
});
