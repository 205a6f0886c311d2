/**
 * Runs executions step by step. Every step's result is written before the next step starts,
 * under a lease that a heartbeat keeps alive; an execution whose lease expired (its process
 * died) is picked up by any process and resumes at the step it had reached, with the same
 * idempotency key, so an action with effects does not repeat them. Dry runs use the same
 * step logic with nothing written.
 */
import { randomUUID } from 'node:crypto';
import type { Container } from 'inversify';
import type { Logger } from 'winston';
import { StepDeferral, StepError } from '../errors.js';
import type { Action, ActionResult, RunContext } from '../plugin-api.js';
import { createAjv, describeErrors, SchemaCache } from '../schema/ajv.js';
import type { EngineClock } from './clock.js';
import type { ExecutionRecord, ExecutionStatus, PolicyDecisionRecord, StepTrailRecord } from './models.js';
import type { PolicyEvaluator } from './policy-evaluator.js';
import type { CompiledAction, CompiledStep, CompiledWorkflow } from './workflow-compiler.js';

/** Everything about an execution the step logic needs, in memory. */
export interface ExecutionState {
  id: string;
  workflow: CompiledWorkflow;
  eventId: string;
  trigger: unknown;
  steps: Record<string, { output?: unknown; port?: string; error?: unknown }>;
  partial: unknown[] | null;
  cursor: ExecutionRecord['cursor'];
  status: ExecutionStatus;
  inErrorPath: boolean;
  error: ExecutionRecord['error'];
  simulate: boolean;
  createdAt: Date;
  /** Steps finished since the last save (their trail), and when that save was (engine clock, ms). */
  unsaved: StepTrailRecord[];
  savedAt: number;
  /**
   * Taken over from a process that stopped while running it: until the next save, steps may
   * have run already, so each asks its action to recall its result before policies judge it.
   */
  recovering: boolean;
}

/** Where progress goes: MongoDB and the socket for real runs, a list in memory for dry runs. */
export interface ProgressSink {
  /** Persists the state after a step; false when the lease was lost or the execution cancelled. */
  save(state: ExecutionState, trail: StepTrailRecord[], wakeAt: Date | null): Promise<boolean>;
  onStep(state: ExecutionState, trail: StepTrailRecord): void;
  /** The execution is parked until `wakeAt` (a retry's backoff or a policy's deferral). */
  onWaiting(state: ExecutionState, wakeAt: Date): Promise<void>;
  onFinished(state: ExecutionState): void;
}

type UnitOutcome =
  | { kind: 'ok'; output: unknown; port: string; trail: StepTrailRecord }
  | { kind: 'error'; error: StepError; trail: StepTrailRecord }
  | { kind: 'denied'; trail: StepTrailRecord }
  | { kind: 'deferred'; until: Date; trail: StepTrailRecord };

/** A parallel branch that finished, kept while its siblings are retried or wait. */
interface BranchResult { output: unknown }

const DEFAULT_BACKOFF = { initialMs: 1_000, factor: 2, maxMs: 300_000 };

/** Exponential backoff with full jitter on the upper half: delay in [d/2, d], d = initial·factor^attempt. */
export function backoffDelay(retry: CompiledAction['retry'], attempt: number, random = Math.random): number {
  const { initialMs, factor, maxMs } = { ...DEFAULT_BACKOFF, ...retry.backoff };
  const ceiling = Math.min(maxMs, initialMs * factor ** attempt);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

const json = (value: unknown): string => JSON.stringify(value ?? null);

export class StepDriver {
  private readonly outputSchemas = new SchemaCache(createAjv());
  /** Read once: going through process.env for every step was 2 % of a busy server's CPU. */
  private readonly environment = workflowEnvironment();

  constructor(
    private readonly container: Container,
    private readonly policies: PolicyEvaluator,
    private readonly clock: EngineClock,
    private readonly logger: Logger,
    /** Longest a running execution goes unsaved while its steps are idempotent (0: save after each step). */
    private readonly checkpointEveryMs = 0,
  ) {}

  /** Context visible to templates and `if` conditions. */
  context(state: ExecutionState, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      trigger: state.trigger,
      steps: state.steps,
      workflow: { id: state.workflow.id, version: state.workflow.version },
      execution: { id: state.id },
      env: this.environment,
      ...(state.error ? { error: state.error } : {}),
      ...extra,
    };
  }

  /**
   * Runs from the cursor until the execution finishes, waits, or the lease is lost.
   * `signal` aborts an in-flight step (cancellation, shutdown).
   */
  async drive(state: ExecutionState, sink: ProgressSink, signal: AbortSignal): Promise<void> {
    while (state.cursor && !signal.aborted) {
      const step = state.workflow.byId.get(state.cursor.stepId);
      if (!step) {
        this.finish(state, 'failed', { code: 'STEP_MISSING', message: `Step ${state.cursor.stepId} is not in version ${state.workflow.version}` });
        await sink.save(state, state.unsaved, null);
        break;
      }
      const keepGoing = await this.runStep(state, step, sink, signal);
      if (!keepGoing) return;
    }
    if (!state.cursor && (state.status === 'succeeded' || state.status === 'failed')) sink.onFinished(state);
  }

  private async runStep(state: ExecutionState, step: CompiledStep, sink: ProgressSink, signal: AbortSignal): Promise<boolean> {
    const cursor = state.cursor as NonNullable<ExecutionState['cursor']>;
    if (step.condition && cursor.index === 0 && !state.partial && !step.condition(this.context(state))) {
      const now = this.clock.now();
      const trail: StepTrailRecord = { stepId: step.id, index: -1, attempt: 0, status: 'skipped', decisions: [], startedAt: now, finishedAt: now, durationMs: 0 };
      state.steps[step.id] = { port: 'skipped' };
      this.advance(state, step, 'skipped');
      return this.commit(state, sink, [trail], null, false);
    }
    if (step.forEach) return this.runForEach(state, step, sink, signal);
    if (step.parallel) return this.runParallel(state, step, sink, signal);
    const action = step.actions[0] as CompiledAction;
    const outcome = await this.runUnit(state, step, action, this.context(state), cursor.attempt, -1, signal);
    return this.settle(state, step, action, outcome, sink, (output, port) => {
      state.steps[step.id] = { output, port };
      this.advance(state, step, port);
    });
  }

  private async runForEach(state: ExecutionState, step: CompiledStep, sink: ProgressSink, signal: AbortSignal): Promise<boolean> {
    const action = step.actions[0] as CompiledAction;
    let items: unknown;
    try {
      items = (step.forEach as NonNullable<CompiledStep['forEach']>)(this.context(state));
      if (!Array.isArray(items)) throw new StepError('FOREACH_NOT_ARRAY', `forEach of step ${step.id} gave ${typeof items}, not an array`);
    } catch (error) {
      const now = this.clock.now();
      const failure = asStepError(error);
      return this.settle(state, step, action, { kind: 'error', error: failure, trail: this.trailEntry(step, action, -1, 0, 'failed', now, { error: failure }) }, sink, () => undefined);
    }
    const list = items as unknown[];
    while ((state.cursor?.index ?? 0) < list.length && !signal.aborted) {
      const cursor = state.cursor as NonNullable<ExecutionState['cursor']>;
      const index = cursor.index;
      const outcome = await this.runUnit(state, step, action, this.context(state, { item: list[index], index }), cursor.attempt, index, signal);
      const done = index + 1 >= list.length;
      const keepGoing = await this.settle(state, step, action, outcome, sink, (output) => {
        state.partial = [...(state.partial ?? []), output];
        if (done) {
          state.steps[step.id] = { output: state.partial, port: 'default' };
          state.partial = null;
          this.advance(state, step, 'default');
        } else {
          state.cursor = { stepId: step.id, index: index + 1, attempt: 0 };
        }
      });
      if (!keepGoing || state.cursor?.stepId !== step.id) return keepGoing;
    }
    if (list.length === 0 && state.cursor?.stepId === step.id) {
      state.steps[step.id] = { output: [], port: 'default' };
      this.advance(state, step, 'default');
      return this.commit(state, sink, [], null, false);
    }
    return !signal.aborted;
  }

  /**
   * Runs the branches that have not finished yet. A branch that finished keeps its output (in
   * `partial`, saved with the execution) while the others are retried or wait for a deferral,
   * so it never runs again — not idempotent ones, and no policy judges a finished one twice.
   */
  private async runParallel(state: ExecutionState, step: CompiledStep, sink: ProgressSink, signal: AbortSignal): Promise<boolean> {
    const cursor = state.cursor as NonNullable<ExecutionState['cursor']>;
    const context = this.context(state);
    const earlier = (state.partial ?? []) as Array<BranchResult | null>;
    const outcomes = await Promise.all(step.actions.map((action, i) => (earlier[i] ? null : this.runUnit(state, step, action, context, cursor.attempt, -1, signal, action.id))));
    const ran = outcomes.filter((o): o is UnitOutcome => o !== null);
    const results = step.actions.map((_, i): BranchResult | null => {
      const outcome = outcomes[i];
      return earlier[i] ?? (outcome?.kind === 'ok' ? { output: outcome.output } : null);
    });
    state.partial = results;
    const others = (outcome: UnitOutcome) => ran.filter((o) => o !== outcome).map((o) => o.trail);
    // A finished branch that is not idempotent must be on record before anything else happens.
    const finishedUnsafe = step.actions.some((action, i) => outcomes[i]?.kind === 'ok' && !action.registered.contribution.idempotent);
    const failed = ran.find((o): o is Extract<UnitOutcome, { kind: 'error' }> => o.kind === 'error');
    const denied = ran.find((o) => o.kind === 'denied');
    const deferred = ran.filter((o): o is Extract<UnitOutcome, { kind: 'deferred' }> => o.kind === 'deferred');
    const retry = step.actions.reduce((max, a) => (a.retry.max > max.max ? a.retry : max), { max: 0 } as CompiledAction['retry']);
    if (failed) return this.settle(state, step, { ...(step.actions[0] as CompiledAction), retry }, failed, sink, () => undefined, others(failed));
    if (denied) return this.settle(state, step, step.actions[0] as CompiledAction, denied, sink, () => undefined, others(denied));
    const firstDeferred = deferred[0];
    if (firstDeferred) {
      const until = new Date(Math.max(...deferred.map((d) => d.until.getTime())));
      return this.settle(state, step, step.actions[0] as CompiledAction, { ...firstDeferred, until }, sink, () => undefined, others(firstDeferred));
    }
    const outputs = (results as BranchResult[]).map((r) => r.output);
    state.partial = null;
    state.steps[step.id] = { output: Object.fromEntries(step.actions.map((action, i) => [action.id, outputs[i]])), port: 'default' };
    for (const [i, action] of step.actions.entries()) state.steps[action.id] = { output: outputs[i], port: 'default' };
    this.advance(state, step, 'default');
    return this.commit(state, sink, ran.map((o) => o.trail), null, finishedUnsafe);
  }

  /** Applies one unit's outcome: advance, retry later, take an error path, wait, or end. */
  private async settle(
    state: ExecutionState, step: CompiledStep, action: CompiledAction, outcome: UnitOutcome, sink: ProgressSink,
    onSuccess: (output: unknown, port: string) => void, extraTrail: StepTrailRecord[] = [],
  ): Promise<boolean> {
    const cursor = state.cursor as NonNullable<ExecutionState['cursor']>;
    const trails = [...extraTrail, outcome.trail];
    switch (outcome.kind) {
      case 'ok':
        onSuccess(outcome.output, outcome.port);
        return this.commit(state, sink, trails, null, !action.registered.contribution.idempotent);
      case 'deferred':
        state.status = 'waiting';
        return this.commit(state, sink, trails, outcome.until);
      case 'denied':
        // Saved at once: a step re-run after a crash would be judged again, and a policy that
        // allows by then would add the allowed path's effects to the denied path's.
        state.steps[step.id] = { port: 'denied' };
        state.partial = null;
        if (step.next.denied) this.advance(state, step, 'denied');
        else this.finish(state, 'succeeded', null);
        return this.commit(state, sink, trails, null);
      case 'error': {
        const { error } = outcome;
        if (error.retryable && cursor.attempt < action.retry.max && !state.simulate) {
          outcome.trail.status = 'retrying';
          const wakeAt = new Date(this.clock.now().getTime() + backoffDelay(action.retry, cursor.attempt));
          state.cursor = { ...cursor, attempt: cursor.attempt + 1 };
          state.status = 'waiting';
          return this.commit(state, sink, trails, wakeAt);
        }
        const failure = { code: error.code, message: error.message, stepId: step.id };
        state.steps[step.id] = { port: 'error', error: failure };
        if (step.next.error) {
          state.partial = null;
          state.error = failure;
          this.advance(state, step, 'error');
        } else if (state.workflow.onError && !state.inErrorPath) {
          state.partial = null;
          state.error = failure;
          state.inErrorPath = true;
          state.cursor = { stepId: state.workflow.onError, index: 0, attempt: 0 };
        } else {
          // The units of this step that finished stay on record: an operator's retry resumes after them.
          if (state.inErrorPath) state.partial = null;
          this.finish(state, 'failed', state.inErrorPath && state.error ? state.error : failure);
        }
        return this.commit(state, sink, trails, null);
      }
    }
  }

  /**
   * Saves progress where it must be durable before the execution goes on: after a step whose
   * action is not idempotent (a crash must not repeat it), after a failure, when the execution
   * waits or ends, and at least every `checkpointEveryMs`. After an idempotent step the save is
   * put off: a process that dies re-runs such steps from the last save with the same idempotency
   * keys, which repeats no effect, and on a database that takes one write at a time a save per
   * step was most of what an execution cost. Step events go out with the save that holds them.
   */
  private async commit(state: ExecutionState, sink: ProgressSink, trails: StepTrailRecord[], wakeAt: Date | null, mustSave = true): Promise<boolean> {
    if (!state.cursor && state.status === 'running') this.finish(state, state.inErrorPath ? 'failed' : 'succeeded', state.error);
    const now = this.clock.now().getTime();
    const due = mustSave || wakeAt !== null || state.status !== 'running' || now - state.savedAt >= this.checkpointEveryMs;
    state.unsaved.push(...trails);
    if (!due) return true;
    const batch = state.unsaved;
    const saved = await sink.save(state, batch, wakeAt);
    if (!saved) return false;
    state.unsaved = [];
    state.savedAt = now;
    state.recovering = false;
    for (const trail of batch) sink.onStep(state, trail);
    if (wakeAt) {
      await sink.onWaiting(state, wakeAt);
      return false;
    }
    return true;
  }

  private advance(state: ExecutionState, step: CompiledStep, port: string): void {
    // A skipped step did not run: unless `next.skipped` says otherwise, the following step runs.
    const target = step.next[port] ?? (port === 'skipped' ? undefined : step.next.default);
    if (target === 'end') {
      state.cursor = null;
      return;
    }
    const nextStep = target ? state.workflow.byId.get(target) : state.workflow.steps[step.position + 1];
    // Falling through in order never enters the onError path; only a failure does.
    const entersErrorPath = !target && !state.inErrorPath && nextStep?.id === state.workflow.onError;
    state.cursor = nextStep && !entersErrorPath ? { stepId: nextStep.id, index: 0, attempt: 0 } : null;
  }

  private finish(state: ExecutionState, status: 'succeeded' | 'failed' | 'cancelled', error: ExecutionRecord['error']): void {
    state.status = status;
    state.error = error;
    state.cursor = null;
  }

  /** One attempt of one action: render, validate, check policies, execute with a timeout. */
  private async runUnit(
    state: ExecutionState, step: CompiledStep, action: CompiledAction, context: Record<string, unknown>,
    attempt: number, index: number, signal: AbortSignal, branchId?: string,
  ): Promise<UnitOutcome> {
    const startedAt = this.clock.now();
    const unitId = branchId ?? step.id;
    const contribution = action.registered.contribution;
    let input: unknown;
    try {
      input = action.input(context);
      const validate = this.outputSchemas.get(contribution.input);
      if (!validate(input)) {
        const issues = describeErrors(validate.errors, 'input.');
        throw new StepError('INPUT_INVALID', `Input of step ${unitId} is invalid: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, false, issues);
      }
    } catch (error) {
      const failure = asStepError(error);
      return { kind: 'error', error: failure, trail: this.trailEntry(step, action, index, attempt, 'failed', startedAt, { error: failure, unitId }) };
    }
    const idempotencyKey = `${state.id}:${unitId}${index >= 0 ? `:${index}` : ''}`;
    const controller = new AbortController();
    const abort = () => controller.abort(signal.reason);
    signal.addEventListener('abort', abort, { once: true });
    const run: RunContext = {
      executionId: state.id, workflowId: state.workflow.id, stepId: unitId, idempotencyKey, simulate: state.simulate, attempt,
      logger: this.logger.child({ executionId: state.id, workflowId: state.workflow.id, stepId: unitId }), signal: controller.signal,
    };
    let decisions: PolicyDecisionRecord[] = [];
    try {
      const impl = this.container.get<Action>(contribution.impl);
      const recalled = state.recovering && impl.recall ? await withTimeout(impl.recall(input, run), action.timeoutMs, controller, unitId) : null;
      if (recalled) return this.succeeded(step, action, index, attempt, startedAt, input, recalled, [], unitId, true);
      const outcome = await this.policies.run(action.policies, { id: unitId, action: action.registered.id, input }, run);
      decisions = outcome.decisions;
      if (outcome.verdict.decision === 'deny') {
        return { kind: 'denied', trail: this.trailEntry(step, action, index, attempt, 'denied', startedAt, { input, decisions, unitId }) };
      }
      if (outcome.verdict.decision === 'defer') {
        return { kind: 'deferred', until: outcome.verdict.until, trail: this.trailEntry(step, action, index, attempt, 'deferred', startedAt, { input, decisions, unitId }) };
      }
      const result = await withTimeout(impl.execute(input, run), action.timeoutMs, controller, unitId);
      return this.succeeded(step, action, index, attempt, startedAt, input, result, decisions, unitId, false);
    } catch (error) {
      if (error instanceof StepDeferral) {
        decisions.push({ policy: action.registered.id, decision: 'defer', code: error.code, reason: error.reason, until: error.until });
        return { kind: 'deferred', until: error.until, trail: this.trailEntry(step, action, index, attempt, 'deferred', startedAt, { input, decisions, unitId }) };
      }
      const failure = asStepError(error);
      return { kind: 'error', error: failure, trail: this.trailEntry(step, action, index, attempt, 'failed', startedAt, { input, decisions, error: failure, unitId }) };
    } finally {
      signal.removeEventListener('abort', abort);
    }
  }

  private succeeded(
    step: CompiledStep, action: CompiledAction, index: number, attempt: number, startedAt: Date,
    input: unknown, result: ActionResult, decisions: PolicyDecisionRecord[], unitId: string, recalled: boolean,
  ): UnitOutcome {
    const port = result.port ?? 'default';
    return { kind: 'ok', output: result.output, port, trail: this.trailEntry(step, action, index, attempt, 'succeeded', startedAt, { input, output: result.output, port, decisions, unitId, recalled }) };
  }

  private trailEntry(
    step: CompiledStep, action: CompiledAction, index: number, attempt: number, status: StepTrailRecord['status'], startedAt: Date,
    details: { input?: unknown; output?: unknown; port?: string; decisions?: PolicyDecisionRecord[]; error?: StepError; unitId?: string; recalled?: boolean },
  ): StepTrailRecord {
    const finishedAt = this.clock.now();
    return {
      stepId: details.unitId ?? step.id, action: action.registered?.id, index, attempt, status,
      ...(details.input !== undefined ? { inputJson: json(details.input) } : {}),
      ...(details.output !== undefined ? { outputJson: json(details.output) } : {}),
      ...(details.port ? { port: details.port } : {}),
      ...(details.recalled ? { recalled: true } : {}),
      error: details.error ? { code: details.error.code, message: details.error.message, retryable: details.error.retryable } : null,
      decisions: details.decisions ?? [], startedAt, finishedAt, durationMs: finishedAt.getTime() - startedAt.getTime(),
    };
  }

  newState(workflow: CompiledWorkflow, eventId: string, trigger: unknown, simulate: boolean, id: string = randomUUID()): ExecutionState {
    const first = workflow.steps[0] as CompiledStep;
    return {
      id, workflow, eventId, trigger, steps: {}, partial: null, cursor: { stepId: first.id, index: 0, attempt: 0 },
      status: 'running', inErrorPath: false, error: null, simulate, createdAt: this.clock.now(), unsaved: [], savedAt: this.clock.now().getTime(), recovering: false,
    };
  }
}

function asStepError(error: unknown): StepError {
  if (error instanceof StepError) return error;
  const message = error instanceof Error ? error.message : String(error);
  // Errors an action did not classify (network resets, driver errors) are worth another try.
  return new StepError('ACTION_FAILED', message, true);
}

async function withTimeout<T>(work: Promise<T>, timeoutMs: number | undefined, controller: AbortController, stepId: string): Promise<T> {
  if (!timeoutMs) return work;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new StepError('STEP_TIMEOUT', `Step ${stepId} took longer than ${timeoutMs} ms`, true);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Environment variables workflows may read: only those starting with WORKFLOW_, never secrets. */
function workflowEnvironment(): Readonly<Record<string, string>> {
  return Object.freeze(Object.fromEntries(Object.entries(process.env).filter(([k, v]) => k.startsWith('WORKFLOW_') && v !== undefined) as Array<[string, string]>));
}

