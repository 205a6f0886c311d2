/**
 * Engine throughput: a 3-step workflow of cheap actions (flow.log with logging off), run from
 * events handed to the engine, against a hand-written handler doing the same writes directly
 * with mongoose, in the same run on the same database. Reports medians of several runs.
 *
 *   npm run build && node dist/scripts/with-services.js -- node dist/bench/engine.js
 *   BENCH_EXECUTIONS=1000 BENCH_RUNS=3 BENCH_CONCURRENCY=32
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import mongoose from 'mongoose';
import { loadConfig } from '../core/config/load-config.js';
import { ExecutionModel, WorkflowEventModel } from '../core/engine/models.js';
import { CoreEvents } from '../core/events/core-events.js';
import { WorkflowEngine } from '../core/engine/workflow-engine.js';
import { MongoConnection } from '../core/storage/mongo.js';
import { projectRoot } from '../core/paths.js';
import { FlowgateServer } from '../core/server.js';
import { median, printTable, recordFigures } from './lib.js';

const EXECUTIONS = Number(process.env.BENCH_EXECUTIONS ?? 1000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);

const workflow = {
  id: 'bench-three-steps',
  trigger: { type: 'flow.event@1', config: { name: 'bench.tick' } },
  steps: [
    { id: 'one', action: 'flow.log@1', input: { message: 'one {{trigger.data.n}}' } },
    { id: 'two', action: 'flow.log@1', input: { message: 'two {{steps.one.output.message}}' } },
    { id: 'three', action: 'flow.log@1', input: { message: 'three' } },
  ],
};

async function inBatches(count: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < count) await work(next++);
  }));
}

function countWrites(connection: mongoose.Connection): { writes: () => number; reset: () => void } {
  let writes = 0;
  const writeMethods = new Set(['insertOne', 'insertMany', 'updateOne', 'updateMany', 'findOneAndUpdate', 'bulkWrite', 'deleteOne', 'replaceOne']);
  connection.set('debug', (_collection: string, method: string) => { if (writeMethods.has(method)) writes++; });
  return { writes: () => writes, reset: () => { writes = 0; } };
}

async function engineRun(server: FlowgateServer, run: number): Promise<{ seconds: number; writes: number }> {
  const engine = server.get(WorkflowEngine);
  const counter = countWrites(server.get(MongoConnection).connection);
  const tag = `engine-${run}-${randomUUID().slice(0, 6)}`;
  // Completion is counted from the engine's own notifications: polling the database would
  // compete with the work being measured for the one FerretDB connection.
  let finished = 0;
  let failed = 0;
  const allDone = new Promise<void>((resolve) => {
    server.get(CoreEvents).on('execution.finished', (event) => {
      if (event.status !== 'succeeded') failed++;
      if (++finished === EXECUTIONS) resolve();
    });
  });
  counter.reset();
  const started = process.hrtime.bigint();
  await inBatches(EXECUTIONS, async (n) => {
    await engine.submit({ type: 'flow.event@1', sourceId: `${tag}-${n}`, payload: { name: 'bench.tick', data: { n } } });
  });
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, Number(process.env.BENCH_TIMEOUT_S ?? 300) * 1000));
  await Promise.race([allDone, timeout]);
  if (finished < EXECUTIONS) {
    const mongo = server.get(MongoConnection);
    const executions = await mongo.model(ExecutionModel).aggregate([{ $group: { _id: '$status', count: { $sum: 1 } } }]);
    const events = await mongo.model(WorkflowEventModel).aggregate([{ $group: { _id: '$dispatched', count: { $sum: 1 } } }]);
    throw new Error(`engine run ${run}: ${finished} of ${EXECUTIONS} finished within 300 s; executions ${JSON.stringify(executions)}, events dispatched ${JSON.stringify(events)}`);
  }
  if (failed) throw new Error(`${failed} executions did not succeed`);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { seconds, writes: counter.writes() / EXECUTIONS };
}

/** The same documents and writes, by hand: event, execution, one update per step, dispatched mark. */
async function handwrittenRun(server: FlowgateServer, run: number): Promise<{ seconds: number; writes: number }> {
  const mongo = server.get(MongoConnection);
  const events = mongo.connection.model('BenchEvent', WorkflowEventModel.schema, 'bench_events');
  const executions = mongo.connection.model('BenchExecution', ExecutionModel.schema, 'bench_executions');
  await events.createIndexes();
  await executions.createIndexes();
  const counter = countWrites(mongo.connection);
  counter.reset();
  const started = process.hrtime.bigint();
  await inBatches(EXECUTIONS, async (n) => {
    const eventId = randomUUID();
    const now = new Date();
    await events.create({ _id: eventId, type: 'flow.event@1', sourceId: `hand-${run}-${n}`, payloadJson: JSON.stringify({ name: 'bench.tick', data: { n } }), receivedAt: now, dispatched: false, executionCount: 0 });
    const id = randomUUID();
    await executions.create({
      _id: id, workflowId: workflow.id, workflowVersion: 1, eventId, triggerType: 'flow.event@1', triggerJson: '{}', status: 'running',
      cursor: { stepId: 'one', index: 0, attempt: 0 }, stepsJson: '{}', trail: [], lease: { owner: 'bench', until: now }, createdAt: now, updatedAt: now,
    });
    await events.updateOne({ _id: eventId }, { $set: { dispatched: true, executionCount: 1 } });
    const steps: Record<string, unknown> = {};
    for (const [index, step] of ['one', 'two', 'three'].entries()) {
      steps[step] = { output: { message: `${step} ${n}` }, port: 'default' };
      const last = index === 2;
      await executions.updateOne({ _id: id, 'lease.owner': 'bench', status: 'running' }, {
        $set: { stepsJson: JSON.stringify(steps), cursor: last ? null : { stepId: ['one', 'two', 'three'][index + 1], index: 0, attempt: 0 }, updatedAt: new Date(), ...(last ? { status: 'succeeded', lease: null, finishedAt: new Date() } : {}) },
        $push: { trail: { stepId: step, index: -1, attempt: 0, status: 'succeeded', inputJson: '{}', outputJson: JSON.stringify(steps[step]), decisions: [], startedAt: new Date(), finishedAt: new Date(), durationMs: 0 } },
      });
    }
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { seconds, writes: counter.writes() / EXECUTIONS };
}

async function main(): Promise<void> {
  const config = loadConfig({
    configDir: join(projectRoot, 'config'),
    env: { ...process.env, NODE_ENV: 'production' },
    overrides: {
      plugins: ['flow'], http: { port: 0 }, log: { level: 'error' }, workflows: { dir: join(projectRoot, 'dist/bench/no-workflows'), watch: false },
      engine: { maxConcurrent: 256 },
    },
  });
  const server = new FlowgateServer(config);
  await server.start({ listen: false });
  await server.get(WorkflowEngine).registry.store(workflow as never, { source: 'api', actor: 'bench' });
  const engine: Array<{ seconds: number; writes: number }> = [];
  const hand: Array<{ seconds: number; writes: number }> = [];
  const mongo = server.get(MongoConnection);
  // FerretDB's writes slow down as a collection grows, so every run starts from empty collections
  // on both sides; otherwise later runs would measure the previous runs' leftovers.
  const emptyCollections = async () => {
    for (const name of ['executions', 'workflowevents', 'bench_events', 'bench_executions']) await mongo.connection.db?.collection(name).deleteMany({});
  };
  for (let run = 0; run < RUNS; run++) {
    await emptyCollections();
    engine.push(await engineRun(server, run));
    await emptyCollections();
    hand.push(await handwrittenRun(server, run));
    console.error(`run ${run + 1}/${RUNS}: engine ${(EXECUTIONS / (engine.at(-1)?.seconds ?? 1)).toFixed(1)}/s, hand-written ${(EXECUTIONS / (hand.at(-1)?.seconds ?? 1)).toFixed(1)}/s`);
  }
  await server.stop();
  const engineRate = median(engine.map((r) => EXECUTIONS / r.seconds));
  const handRate = median(hand.map((r) => EXECUTIONS / r.seconds));
  printTable(`Engine: ${EXECUTIONS} executions of a 3-step workflow, ${CONCURRENCY} in flight, median of ${RUNS} runs`, [
    { handler: 'Flowgate engine', 'executions/s': engineRate, 'per-step overhead ms': 1000 / engineRate / 3, 'writes/execution': median(engine.map((r) => r.writes)), 'runs (executions/s)': engine.map((r) => (EXECUTIONS / r.seconds).toFixed(0)).join(' ') },
    { handler: 'hand-written mongoose', 'executions/s': handRate, 'per-step overhead ms': 1000 / handRate / 3, 'writes/execution': median(hand.map((r) => r.writes)), 'runs (executions/s)': hand.map((r) => (EXECUTIONS / r.seconds).toFixed(0)).join(' ') },
  ]);
  console.log(`\nengine / hand-written: ${((engineRate / handRate) * 100).toFixed(0)}% (target ≥ 70%)`);
  recordFigures('engine', [{ figure: 'engine executions/s (3-step workflow)', value: Number(engineRate.toFixed(1)), detail: `hand-written ${handRate.toFixed(1)}/s in the same run: ${((engineRate / handRate) * 100).toFixed(0)}% (target ≥ 70%)` }]);
}

await main();
