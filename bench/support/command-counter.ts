/**
 * Preloaded into a benchmarked server (`node --import …/command-counter.js`): counts every
 * MongoDB command the process sends, by collection and command, with the time each took
 * (the driver's command monitoring), and writes the totals as JSON to BENCH_COMMANDS_FILE
 * on SIGUSR2 and at exit. It changes nothing in the server; it only listens.
 */
import { writeFileSync } from 'node:fs';
import { MongoClient, type CommandStartedEvent, type CommandSucceededEvent, type CommandFailedEvent } from 'mongodb';

export interface CommandTotals {
  [collectionAndCommand: string]: { count: number; ms: number };
}

const file = process.env.BENCH_COMMANDS_FILE;
const totals: CommandTotals = {};
const started = new Map<number, string>();
// Handshakes and heartbeats are not the application's work.
const IGNORED = new Set(['hello', 'isMaster', 'ismaster', 'ping', 'endSessions', 'buildInfo', 'getMore', 'killCursors']);

/**
 * How the command selects documents: the FerretDB build the benchmarks run on serves a filter
 * from an index when it names an `_id` value (`by _id`, or `by _id + {other keys}`); anything
 * else is marked as the scan it is there.
 */
function filterShape(event: CommandStartedEvent): string {
  const command = event.command as Record<string, unknown>;
  const first = (list: unknown): unknown => (Array.isArray(list) ? list[0] : undefined);
  const filter = (command.filter ?? command.query ?? (first(command.updates) as { q?: unknown } | undefined)?.q ?? (first(command.deletes) as { q?: unknown } | undefined)?.q) as Record<string, unknown> | undefined;
  if (!filter || typeof filter !== 'object') return '';
  const keys = Object.keys(filter);
  const byId = keys.includes('_id') && (typeof filter._id !== 'object' || filter._id === null || !Object.keys(filter._id as object).some((k) => k.startsWith('$') && k !== '$eq'));
  const others = keys.filter((key) => key !== '_id');
  if (!byId) return ` scan {${keys.join(',')}}`;
  return others.length ? ` by _id + {${others.join(',')}}` : ' by _id';
}

const connect = MongoClient.prototype.connect;
MongoClient.prototype.connect = function patched(this: MongoClient) {
  // A setter of the client (its options are read when it connects); not in the driver's types.
  (this as unknown as { monitorCommands: boolean }).monitorCommands = true;
  this.on('commandStarted', (event: CommandStartedEvent) => {
    if (IGNORED.has(event.commandName)) return;
    const collection = event.command[event.commandName] as unknown;
    started.set(event.requestId, `${typeof collection === 'string' ? collection : '-'}.${event.commandName}${filterShape(event)}`);
  });
  const finished = (event: CommandSucceededEvent | CommandFailedEvent) => {
    const key = started.get(event.requestId);
    if (!key) return;
    started.delete(event.requestId);
    const entry = (totals[key] ??= { count: 0, ms: 0 });
    entry.count++;
    entry.ms += event.duration;
  };
  this.on('commandSucceeded', finished);
  this.on('commandFailed', finished);
  return connect.call(this) as ReturnType<MongoClient['connect']>;
} as MongoClient['connect'];

const dump = () => { if (file) writeFileSync(file, JSON.stringify(totals)); };
process.on('SIGUSR2', dump);
process.on('exit', dump);
