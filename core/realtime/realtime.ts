/**
 * Socket.IO for dashboards. Clients authenticate at the handshake with the same credentials as
 * the REST API, then `subscribe` to topics; each topic is a room, joined only with the topic's
 * permission. The Redis adapter carries every event to clients on every process.
 *
 * Under a high event rate the cost is one TCP write per event per client (measured in
 * bench/fanout.ts: the write system call was two thirds of the server's time). With
 * `realtime.flushIntervalMs` set, events published within that window of the last flush go out
 * together, and the frames engine.io flushes to a client together leave in one write. An event
 * published when the last flush is older than that goes out at once: a quiet server adds no
 * delay, a busy one at most that window. Clients receive the same frames in the same order.
 * It is off by default: it halved the server's CPU per delivery at 200 events/s to 1,000
 * clients, but the slow-client reliability test was less steady with it (docs/performance.md).
 */
import type { Server as HttpServer } from 'node:http';
import type { Socket as NetSocket } from 'node:net';
import { createAdapter } from '@socket.io/redis-adapter';
import { inject, injectable } from 'inversify';
import { Server, type Socket } from 'socket.io';
import type { Logger } from 'winston';
import type { FlowgateConfig } from '../config/config-schema.js';
import { HttpError } from '../errors.js';
import type { Authenticator, Principal } from '../plugin-api.js';
import type { Contributions } from '../plugins/contributions.js';
import { RedisConnection } from '../storage/redis.js';
import { ConfigToken, LoggerToken } from '../tokens.js';

export interface SubscribeResult {
  subscribed: string[];
  denied: Array<{ topic: string; reason: string }>;
}

const room = (topic: string) => `topic:${topic}`;
/** When a socket's credentials were last known to hold, and whether a re-check of them is under way. */
interface CredentialCheck { confirmedAt: number; pending: boolean }
/** Bounded per-socket send buffer: a client that stops reading is disconnected, not buffered forever. */
const MAX_BUFFERED_PACKETS = 1_000;
interface PendingEvent { room: string; event: string; message: Record<string, unknown> }

/**
 * The TCP socket under an engine.io connection on the websocket transport (engine.io keeps the
 * `ws` socket in `transport.socket`, and `ws` its TCP socket in `_socket`; neither is in their
 * public types); null on HTTP long-polling.
 */
function tcpSocketOf(socket: Socket): NetSocket | null {
  const transport = socket.conn.transport as unknown as { name: string; socket?: { _socket?: NetSocket } };
  return transport.name === 'websocket' ? transport.socket?._socket ?? null : null;
}

@injectable()
export class Realtime {
  private io: Server | null = null;
  private pending: PendingEvent[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private lastFlushAt = -Infinity;

  constructor(
    @inject(ConfigToken) private readonly config: FlowgateConfig,
    @inject(LoggerToken) private readonly logger: Logger,
    @inject(RedisConnection) private readonly redis: RedisConnection,
  ) {}

  attach(server: HttpServer, contributions: Contributions, authenticator: () => Authenticator | null): void {
    const io = new Server(server, {
      cors: { origin: this.config.realtime.corsOrigin },
      serveClient: false,
      maxHttpBufferSize: 64 * 1024,
      // The default of engine.io 6, pinned: compression would cost a deflate per client per
      // event, where an uncompressed event is framed once for all of a topic's subscribers.
      perMessageDeflate: false,
    });
    io.adapter(createAdapter(this.redis.duplicate('socket-pub'), this.redis.duplicate('socket-sub'), { key: `${this.redis.keyPrefix}socket.io` }));
    io.use(async (socket, next) => {
      const auth = (socket.handshake.auth ?? {}) as { token?: unknown; apiKey?: unknown };
      const provider = authenticator();
      const askedAt = performance.now();
      try {
        const principal = provider && (typeof auth.token === 'string' || typeof auth.apiKey === 'string')
          ? await provider.authenticate({
            bearerToken: typeof auth.token === 'string' ? auth.token : undefined,
            apiKey: typeof auth.apiKey === 'string' ? auth.apiKey : undefined,
            ip: socket.handshake.address,
          })
          : null;
        socket.data.principal = principal;
        socket.data.check = { confirmedAt: askedAt, pending: false } satisfies CredentialCheck;
        next();
      } catch (error) {
        if (error instanceof HttpError && error.status < 500) {
          next(Object.assign(new Error('UNAUTHENTICATED'), { data: { message: error.message } }));
          return;
        }
        // Not a verdict on the credentials (the database unreachable): the client may try again,
        // and is not shown an internal error.
        this.logger.warn('could not authenticate a socket handshake', { error: (error as Error).message });
        next(Object.assign(new Error('UNAVAILABLE'), { data: { message: 'The credentials could not be checked; connect again later' } }));
      }
    });
    io.on('connection', (socket: Socket) => {
      if (socket.data.principal) {
        const timer = setInterval(() => this.recheckOnSchedule(socket, authenticator()), this.config.realtime.revalidateEveryMs);
        timer.unref();
        socket.once('disconnect', () => clearInterval(timer));
      }
      socket.on('subscribe', (topics: unknown, ack?: (result: SubscribeResult) => void) => {
        const result = this.subscribe(socket, topics, contributions);
        if (typeof ack === 'function') ack(result);
      });
      socket.on('unsubscribe', (topics: unknown, ack?: (result: { unsubscribed: string[] }) => void) => {
        const list = Array.isArray(topics) ? topics.filter((t): t is string => typeof t === 'string') : [];
        for (const topic of list) void socket.leave(room(topic));
        if (typeof ack === 'function') ack({ unsubscribed: list });
      });
      // engine.io writes each queued packet as its own frame, one TCP write each; holding the
      // TCP socket corked until the flush is done sends all of them in one write. Part of the
      // opt-in grouping, like the window: off, sending is what socket.io does by itself.
      if (this.config.realtime.flushIntervalMs > 0) {
        socket.conn.on('flush', (packets: unknown[]) => {
          const tcp = packets.length > 1 ? tcpSocketOf(socket) : null;
          if (!tcp) return;
          tcp.cork();
          process.nextTick(() => tcp.uncork());
        });
      }
      // A client that stops reading must not make the server buffer without bound.
      let dropping = false;
      socket.conn.on('packetCreate', () => {
        if (dropping) return;
        // engine.io keeps unsent packets in `writeBuffer`; it is not in its public types.
        const pending = (socket.conn as unknown as { writeBuffer: unknown[] }).writeBuffer.length;
        if (pending > MAX_BUFFERED_PACKETS) {
          dropping = true;
          this.logger.warn('disconnecting a socket that does not read its events', { socketId: socket.id, pending });
          // Discard the queue and close now: a polite disconnect queues one more packet (which
          // re-entered this handler until the stack overflowed) and waits for a drain that a
          // stalled client never allows.
          socket.conn.close(true);
        }
      });
    });
    this.io = io;
  }

  private subscribe(socket: Socket, topics: unknown, contributions: Contributions): SubscribeResult {
    const principal = socket.data.principal as Principal | null;
    const result: SubscribeResult = { subscribed: [], denied: [] };
    const list = Array.isArray(topics) ? topics : [topics];
    for (const topic of list) {
      if (typeof topic !== 'string') {
        result.denied.push({ topic: String(topic), reason: 'topic names are strings' });
        continue;
      }
      const registered = contributions.topics.get(topic);
      if (!registered) {
        result.denied.push({ topic, reason: 'unknown topic' });
      } else if (registered.definition.permission !== 'public' && !principal) {
        result.denied.push({ topic, reason: 'authenticate to subscribe' });
      } else if (registered.definition.permission !== 'public' && !principal?.permissions.has(registered.definition.permission)) {
        result.denied.push({ topic, reason: `needs ${registered.definition.permission}` });
      } else {
        void socket.join(room(topic));
        result.subscribed.push(topic);
      }
    }
    return result;
  }

  /**
   * Publishes an event to every subscriber of `topic` on every process: at once when the last
   * flush is older than `realtime.flushIntervalMs`, else with the others at the end of that window.
   * Events keep their publication order.
   */
  publish(topic: string, event: string, payload: Record<string, unknown>): void {
    if (!this.io) return;
    this.pending.push({ room: room(topic), event, message: { topic, event, at: new Date().toISOString(), ...payload } });
    if (this.flushTimer) return;
    const wait = this.lastFlushAt + this.config.realtime.flushIntervalMs - performance.now();
    if (wait <= 0) {
      this.flush();
    } else {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null;
        this.flush();
      }, wait);
    }
  }

  private flush(): void {
    this.lastFlushAt = performance.now();
    const events = this.pending;
    this.pending = [];
    for (const { room: target, event, message } of events) this.io?.to(target).emit(event, message);
  }

  /**
   * Every `realtime.revalidateEveryMs` for each authenticated socket: checks its credentials
   * again, one check at a time. A check that fails (the authenticator's database unreachable) or
   * does not answer is not taken as a yes: once the credentials have gone unconfirmed for
   * `realtime.revalidateGraceMs`, the socket is closed, so a user disabled or a key revoked just
   * before an outage stops receiving events; a shorter blip leaves dashboards connected.
   */
  private recheckOnSchedule(socket: Socket, authenticator: Authenticator | null): void {
    if (!authenticator?.isStillValid) return;
    const check = socket.data.check as CredentialCheck;
    const unconfirmedMs = performance.now() - check.confirmedAt;
    if (unconfirmedMs > this.config.realtime.revalidateGraceMs) {
      const principal = socket.data.principal as Principal;
      this.logger.warn('disconnecting a socket whose credentials could not be checked', { socketId: socket.id, principal: `${principal.kind}:${principal.id}`, unconfirmedMs: Math.round(unconfirmedMs) });
      this.drop(socket, 'session.unverified', 'credentials could not be checked');
      return;
    }
    if (check.pending) return;
    check.pending = true;
    void this.recheck(socket, authenticator).finally(() => { check.pending = false; });
  }

  /** Asks the authenticator whether the socket's credentials still hold, and closes it when they do not. */
  private async recheck(socket: Socket, authenticator: Authenticator): Promise<void> {
    const principal = socket.data.principal as Principal | null;
    if (!principal || !authenticator.isStillValid) return;
    const check = socket.data.check as CredentialCheck;
    // The answer vouches for the credentials as they were when asked, not when it arrived.
    const askedAt = performance.now();
    try {
      if (await authenticator.isStillValid(principal)) check.confirmedAt = Math.max(check.confirmedAt, askedAt);
      else this.drop(socket, 'session.revoked', 'credentials revoked');
    } catch (error) {
      this.logger.debug('could not check the credentials of a socket', { socketId: socket.id, error: (error as Error).message });
    }
  }

  private drop(socket: Socket, event: 'session.revoked' | 'session.unverified', reason: string): void {
    socket.emit(event, { reason });
    socket.disconnect(true);
  }

  /** Checks every socket's credentials now (used after a logout or a key deletion). */
  async revalidate(authenticator: Authenticator | null): Promise<void> {
    if (!this.io || !authenticator) return;
    for (const socket of this.io.of('/').sockets.values()) await this.recheck(socket, authenticator);
  }

  async close(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.flush();
    if (this.io) {
      this.io.disconnectSockets(true);
      await new Promise<void>((resolve) => this.io?.close(() => resolve()) ?? resolve());
    }
    this.io = null;
  }
}
