/**
 * One load generator of bench/fanout.ts, in a process of its own so that its work does not
 * share the server's event loop: CLIENTS `socket.io-client` connections (websocket transport,
 * as docs/operations.md recommends behind a load balancer) to URL, each subscribed to the
 * `greetings` topic. Each delivery's latency is the receive time minus the `sentAt` the server
 * put in the event (same machine, same clock). Talks to its parent over IPC:
 * - 'ready' once every client is connected and subscribed (also the answer to 'reconnect');
 * - 'count' → how many deliveries arrived since the last report (to wait for the last ones);
 * - 'report' → a histogram of the latencies since the last report, the deliveries each event
 *   had and how many clients the server disconnected meanwhile;
 * - 'reconnect' → connects and subscribes again the clients the server disconnected;
 * - 'stop' → disconnects and exits (writing its CPU profile when started with --cpu-prof).
 */
import { io, type Socket } from 'socket.io-client';

const url = process.env.URL as string;
const clients = Number(process.env.CLIENTS ?? 1000);
/** Deliveries by latency in whole milliseconds (the last bucket: 10 s or more). */
let histogram = new Array<number>(10_001).fill(0);
let deliveries = new Map<number, number>();
let delivered = 0;
let disconnected = 0;

function connect(): Socket {
  const socket = io(url, { transports: ['websocket'], auth: { token: 'role:owner' }, reconnection: false, forceNew: true });
  socket.on('greeting.created', (event: { sentAt: number; n: number }) => {
    const ms = Math.max(0, Math.min(10_000, Math.round(Date.now() - event.sentAt)));
    histogram[ms] = (histogram[ms] ?? 0) + 1;
    deliveries.set(event.n, (deliveries.get(event.n) ?? 0) + 1);
    delivered++;
  });
  socket.on('disconnect', (reason) => {
    if (reason !== 'io client disconnect') disconnected++;
  });
  return socket;
}

async function subscribe(batch: Socket[]): Promise<void> {
  await Promise.all(batch.map((socket) => new Promise<void>((resolve, reject) => {
    if (socket.connected) return resolve();
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  })));
  await Promise.all(batch.map((socket) => socket.emitWithAck('subscribe', ['greetings'])));
}

const sockets: Socket[] = [];
for (let i = 0; i < clients; i++) {
  sockets.push(connect());
  // Connect in small batches: a thousand handshakes at once only measures the accept queue.
  if (i % 50 === 49) await new Promise((r) => setTimeout(r, 50));
}
await subscribe(sockets);
process.send?.({ kind: 'ready' });

process.on('message', (message: { kind: string }) => {
  if (message.kind === 'count') {
    process.send?.({ kind: 'count', delivered });
  } else if (message.kind === 'report') {
    process.send?.({ kind: 'report', histogram, perEvent: [...deliveries.entries()], disconnected });
    histogram = new Array<number>(10_001).fill(0);
    deliveries = new Map();
    delivered = 0;
    disconnected = 0;
  } else if (message.kind === 'reconnect') {
    const replaced = sockets.flatMap((socket, i) => (socket.connected ? [] : [i]));
    for (const i of replaced) {
      sockets[i]?.removeAllListeners();
      sockets[i] = connect();
    }
    void subscribe(replaced.map((i) => sockets[i] as Socket)).then(() => process.send?.({ kind: 'ready', replaced: replaced.length }));
  } else if (message.kind === 'stop') {
    for (const socket of sockets) socket.disconnect();
    process.exit(0);
  }
});
