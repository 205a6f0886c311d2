/** HTTP routes for workflows and executions. */
import { randomUUID } from 'node:crypto';
import { HttpError } from '../errors.js';
import type { RouteDefinition, TopicDefinition } from '../plugin-api.js';
import type { ExecutionRecord } from './models.js';
import { EXECUTION_STATUSES } from './models.js';
import type { WorkflowEngine } from './workflow-engine.js';
import { workflowSchema, type WorkflowDefinition } from './workflow-schema.js';

const workflowIdParams = { type: 'object', additionalProperties: false, required: ['id'], properties: { id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,63}$' } } } as const;
const executionIdParams = { type: 'object', additionalProperties: false, required: ['id'], properties: { id: { type: 'string', format: 'uuid' } } } as const;

const issueSchema = { type: 'object', required: ['path', 'code', 'message'], properties: { path: { type: 'string' }, code: { type: 'string' }, message: { type: 'string' } } } as const;

const workflowSummarySchema = {
  type: 'object',
  required: ['id', 'version', 'enabled', 'source', 'triggerType', 'updatedAt'],
  properties: {
    id: { type: 'string' }, version: { type: 'integer' }, enabled: { type: 'boolean' }, source: { enum: ['file', 'api'] }, file: { type: 'string' },
    name: { type: 'string' }, triggerType: { type: 'string' }, updatedAt: { type: 'string', format: 'date-time' },
    lastError: { type: 'object', required: ['at', 'issues'], properties: { at: { type: 'string' }, issues: { type: 'array', items: issueSchema } } },
  },
} as const;

const decisionSchema = {
  type: 'object', required: ['policy', 'decision'],
  properties: { policy: { type: 'string' }, decision: { enum: ['allow', 'deny', 'defer'] }, code: { type: 'string' }, reason: { type: 'string' }, until: { type: 'string' } },
} as const;

const trailEntrySchema = {
  type: 'object',
  required: ['stepId', 'attempt', 'status', 'decisions', 'durationMs'],
  properties: {
    stepId: { type: 'string' }, action: { type: 'string' }, index: { type: 'integer' }, attempt: { type: 'integer' },
    status: { enum: ['succeeded', 'failed', 'retrying', 'denied', 'deferred', 'skipped'] },
    input: {}, output: {}, port: { type: 'string' },
    recalled: { type: 'boolean', description: 'The result of an attempt made before its process stopped, recalled from its effect; its policies were not asked again' },
    error: { type: ['object', 'null'], properties: { code: { type: 'string' }, message: { type: 'string' }, retryable: { type: 'boolean' } } },
    decisions: { type: 'array', items: decisionSchema }, startedAt: { type: 'string' }, finishedAt: { type: 'string' }, durationMs: { type: 'number' },
  },
} as const;

const executionErrorSchema = { type: ['object', 'null'], properties: { code: { type: 'string' }, message: { type: 'string' }, stepId: { type: 'string' } } } as const;

const executionSchema = {
  type: 'object',
  required: ['id', 'workflowId', 'workflowVersion', 'eventId', 'status', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'string' }, workflowId: { type: 'string' }, workflowVersion: { type: 'integer' }, eventId: { type: 'string' },
    triggerType: { type: 'string' }, trigger: {}, status: { enum: EXECUTION_STATUSES }, currentStep: { type: ['string', 'null'] },
    wakeAt: { type: ['string', 'null'] }, error: executionErrorSchema, steps: { type: 'array', items: trailEntrySchema }, outputs: { type: 'object' },
    createdAt: { type: 'string' }, updatedAt: { type: 'string' }, finishedAt: { type: ['string', 'null'] },
  },
} as const;

const parse = (text: string | undefined | null): unknown => (text ? JSON.parse(text) : undefined);

export function executionView(record: ExecutionRecord, full: boolean): Record<string, unknown> {
  return {
    id: record._id, workflowId: record.workflowId, workflowVersion: record.workflowVersion, eventId: record.eventId, triggerType: record.triggerType,
    status: record.status, currentStep: record.cursor?.stepId ?? null, wakeAt: record.wakeAt?.toISOString() ?? null, error: record.error ?? null,
    createdAt: record.createdAt.toISOString(), updatedAt: record.updatedAt.toISOString(), finishedAt: record.finishedAt?.toISOString() ?? null,
    ...(full ? {
      trigger: parse(record.triggerJson),
      outputs: Object.fromEntries(Object.entries(JSON.parse(record.stepsJson) as Record<string, { output?: unknown }>).map(([id, s]) => [id, s.output ?? null])),
      steps: record.trail.map((t) => ({
        stepId: t.stepId, ...(t.action ? { action: t.action } : {}), index: t.index, attempt: t.attempt, status: t.status,
        ...(t.inputJson ? { input: parse(t.inputJson) } : {}), ...(t.outputJson ? { output: parse(t.outputJson) } : {}), ...(t.port ? { port: t.port } : {}),
        ...(t.recalled ? { recalled: true } : {}), error: t.error ?? null,
        decisions: t.decisions.map((d) => ({ policy: d.policy, decision: d.decision, ...(d.code ? { code: d.code } : {}), ...(d.reason ? { reason: d.reason } : {}), ...(d.until ? { until: new Date(d.until).toISOString() } : {}) })),
        startedAt: new Date(t.startedAt).toISOString(), finishedAt: new Date(t.finishedAt).toISOString(), durationMs: t.durationMs,
      })),
    } : {}),
  };
}

const ids = { executionId: { type: 'string' }, workflowId: { type: 'string' } } as const;
const stepErrorSchema = {
  type: 'object', required: ['code', 'message'],
  properties: { code: { type: 'string', description: 'See docs/error-codes.md' }, message: { type: 'string' }, stepId: { type: 'string' } },
} as const;

/** The engine's topics; these schemas are what docs/realtime.md publishes (`node dist/scripts/realtime-doc.js`). */
export const engineTopics: TopicDefinition[] = [
  {
    name: 'executions', permission: 'executions:read', summary: 'Executions as they start, complete steps, wait and finish',
    events: {
      'execution.started': {
        type: 'object', required: ['executionId', 'workflowId', 'version', 'eventId'],
        properties: { ...ids, version: { type: 'integer', description: 'Workflow version the execution is pinned to' }, eventId: { type: 'string', description: 'The stored trigger event' } },
      },
      'execution.step': {
        type: 'object', required: ['executionId', 'workflowId', 'stepId', 'status', 'attempt', 'durationMs'],
        properties: {
          ...ids, stepId: { type: 'string' },
          status: { enum: ['succeeded', 'failed', 'retrying', 'denied', 'deferred', 'skipped'] },
          attempt: { type: 'integer', minimum: 0, description: '0 on the first attempt' }, durationMs: { type: 'number' },
          port: { type: 'string', description: 'Output port the step took, when not default' },
          recalled: { type: 'boolean', description: 'True when the step had run before its process stopped: its result was recalled, not run again' },
          error: { ...stepErrorSchema, description: 'Present when the step failed' },
        },
      },
      'execution.waiting': {
        type: 'object', required: ['executionId', 'workflowId', 'until'],
        properties: { ...ids, until: { type: 'string', format: 'date-time', description: 'When the execution resumes' }, stepId: { type: 'string', description: 'The step that waits' } },
      },
      'execution.finished': {
        type: 'object', required: ['executionId', 'workflowId', 'status', 'durationMs'],
        properties: {
          ...ids, status: { enum: ['succeeded', 'failed', 'cancelled'] }, durationMs: { type: 'number' },
          error: { oneOf: [stepErrorSchema, { type: 'null' }] },
        },
      },
    },
  },
  {
    name: 'workflows', permission: 'workflows:read', summary: 'Workflow versions stored and invalid changes rejected',
    events: {
      'workflow.updated': {
        type: 'object', required: ['workflowId', 'enabled'],
        properties: { workflowId: { type: 'string' }, version: { type: ['integer', 'null'], description: 'Active version; null when disabled' }, enabled: { type: 'boolean' } },
      },
      'workflow.invalid': {
        type: 'object', required: ['file', 'issues'],
        properties: { workflowId: { type: ['string', 'null'], description: 'null when the file does not parse' }, file: { type: 'string' }, issues: { type: 'array', items: issueSchema } },
      },
    },
  },
];

export const enginePermissions = {
  'workflows:read': 'viewer',
  'workflows:write': 'manager',
  'executions:read': 'viewer',
  'executions:manage': 'manager',
} as const;

export function engineRoutes(engine: WorkflowEngine): RouteDefinition[] {
  const tags = ['workflows'];
  const registry = () => engine.registry;
  const actor = (principal: { kind: string; id: string } | null) => (principal ? `${principal.kind}:${principal.id}` : 'anonymous');
  return [
    {
      method: 'get', path: '/api/workflows', summary: 'List workflows', permission: 'workflows:read', tags,
      responses: { 200: { description: 'Workflows', schema: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: workflowSummarySchema } } } } },
      handler: async () => ({ body: { items: await registry().summaries() } }),
    },
    {
      method: 'post', path: '/api/workflows', summary: 'Create a workflow (or a new version of one)', permission: 'workflows:write', tags,
      body: workflowSchema, bodyLimit: '1mb',
      responses: { 201: { description: 'Stored', schema: workflowSummarySchema }, 422: { description: 'Invalid workflow; details lists every issue with its path' } },
      handler: async (req) => {
        const stored = await registry().store(req.body as WorkflowDefinition, { source: 'api', actor: actor(req.principal) });
        return { status: 201, body: await registry().summary(await registry().record(stored.id)) };
      },
    },
    {
      method: 'post', path: '/api/workflows/validate', summary: 'Validate a workflow without storing it', permission: 'workflows:read', tags,
      body: { type: 'object' }, bodyLimit: '1mb',
      responses: { 200: { description: 'Validation result', schema: { type: 'object', required: ['valid', 'issues'], properties: { valid: { type: 'boolean' }, issues: { type: 'array', items: issueSchema } } } } },
      handler: async (req) => {
        const result = engine.compiler().compile(req.body);
        return { body: { valid: result.ok, issues: result.ok ? [] : result.issues } };
      },
    },
    {
      method: 'get', path: '/api/workflows/:id', summary: 'One workflow with its versions', permission: 'workflows:read', tags, params: workflowIdParams,
      responses: { 200: { description: 'Workflow', schema: { type: 'object', required: ['workflow', 'versions'], properties: { workflow: workflowSummarySchema, versions: { type: 'array', items: { type: 'object' } } } } } },
      handler: async (req) => {
        const id = req.params.id as string;
        return { body: { workflow: await registry().summary(await registry().record(id)), versions: await registry().versionList(id) } };
      },
    },
    {
      method: 'put', path: '/api/workflows/:id', summary: 'Store a new version', permission: 'workflows:write', tags, params: workflowIdParams,
      body: workflowSchema, bodyLimit: '1mb',
      responses: { 200: { description: 'Stored', schema: workflowSummarySchema }, 422: { description: 'Invalid workflow' } },
      handler: async (req) => {
        const definition = req.body as WorkflowDefinition;
        if (definition.id !== req.params.id) {
          throw new HttpError(400, 'ID_MISMATCH', `The body's id ${definition.id} differs from the path's ${req.params.id}`);
        }
        await registry().record(definition.id);
        await registry().store(definition, { source: 'api', actor: actor(req.principal) });
        return { body: await registry().summary(await registry().record(definition.id)) };
      },
    },
    {
      method: 'delete', path: '/api/workflows/:id', summary: 'Delete a workflow (its versions and executions are kept)', permission: 'workflows:write', tags, params: workflowIdParams,
      responses: { 204: { description: 'Deleted' } },
      handler: async (req) => {
        await engine.disable(req.params.id as string);
        await registry().remove(req.params.id as string);
        return { status: 204 };
      },
    },
    {
      method: 'post', path: '/api/workflows/:id/enable', summary: 'Enable a workflow', permission: 'workflows:write', tags, params: workflowIdParams,
      responses: { 200: { description: 'Enabled', schema: workflowSummarySchema } },
      handler: async (req) => {
        await registry().setEnabled(req.params.id as string, true);
        return { body: await registry().summary(await registry().record(req.params.id as string)) };
      },
    },
    {
      method: 'post', path: '/api/workflows/:id/disable', summary: 'Disable a workflow now; its queued and waiting executions are cancelled', permission: 'workflows:write', tags, params: workflowIdParams,
      responses: { 200: { description: 'Disabled', schema: { type: 'object', required: ['workflow', 'cancelledExecutions'], properties: { workflow: workflowSummarySchema, cancelledExecutions: { type: 'integer' } } } } },
      handler: async (req) => {
        const cancelledExecutions = await engine.disable(req.params.id as string);
        return { body: { workflow: await registry().summary(await registry().record(req.params.id as string)), cancelledExecutions } };
      },
    },
    {
      method: 'post', path: '/api/workflows/:id/test', summary: 'Dry-run against a sample event: effects simulated, policy decisions shown, nothing written', permission: 'workflows:write', tags,
      params: workflowIdParams,
      body: { type: 'object', additionalProperties: false, required: ['event'], properties: { event: { type: 'object', description: 'The trigger event payload' }, workflow: { type: 'object', description: 'An unsaved definition to test instead of the stored one' } } },
      responses: { 200: { description: 'What would happen', schema: { type: 'object', required: ['matched', 'status', 'steps'], properties: { matched: { type: 'boolean' }, reason: { type: 'string' }, status: { type: 'string' }, steps: { type: 'array', items: trailEntrySchema }, outputs: { type: 'object' }, error: executionErrorSchema } } } },
      handler: async (req) => {
        const body = req.body as { event: Record<string, unknown>; workflow?: WorkflowDefinition };
        let definition = body.workflow;
        if (!definition) {
          const record = await registry().record(req.params.id as string);
          definition = (await registry().compiledVersion(record._id, record.currentVersion)).definition;
        }
        const result = await engine.dryRun(definition, body.event);
        return { body: { ...result, steps: result.steps.map((s) => ({ ...s, decisions: s.decisions.map((d) => ({ ...d, ...(d.until ? { until: new Date(d.until).toISOString() } : {}) })) })) } };
      },
    },
    {
      method: 'post', path: '/api/workflows/:id/run', summary: 'Start a workflow by hand (its trigger must be flow.manual)', permission: 'executions:manage', tags, params: workflowIdParams,
      body: { type: 'object', additionalProperties: false, properties: { payload: { type: 'object' }, idempotencyKey: { type: 'string', minLength: 8, maxLength: 128 } } },
      responses: { 202: { description: 'Accepted', schema: { type: 'object', required: ['eventId', 'duplicate'], properties: { eventId: { type: 'string' }, duplicate: { type: 'boolean' } } } } },
      handler: async (req) => {
        const body = (req.body ?? {}) as { payload?: Record<string, unknown>; idempotencyKey?: string };
        const workflow = registry().activeById(req.params.id as string);
        if (!workflow) throw new HttpError(409, 'WORKFLOW_NOT_ACTIVE', `Workflow ${req.params.id} is not enabled`);
        const submitted = await engine.submit({
          type: workflow.trigger.registered.id, sourceId: body.idempotencyKey ?? randomUUID(), payload: body.payload ?? {}, workflowId: workflow.id,
        });
        return { status: 202, body: submitted };
      },
    },
    {
      method: 'get', path: '/api/executions', summary: 'Execution history, newest first', permission: 'executions:read', tags: ['executions'],
      query: {
        type: 'object', additionalProperties: false,
        properties: {
          workflowId: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,63}$' }, status: { enum: EXECUTION_STATUSES }, eventId: { type: 'string', maxLength: 64 },
          from: { type: 'string', format: 'date-time' }, to: { type: 'string', format: 'date-time' },
          limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 }, cursor: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,128}$' },
        },
      },
      responses: { 200: { description: 'A page of executions', schema: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: executionSchema }, nextCursor: { type: 'string' } } } } },
      handler: async (req) => {
        const q = req.query as { workflowId?: string; status?: string; eventId?: string; from?: string; to?: string; limit: number; cursor?: string };
        const filter: Record<string, unknown> = {};
        if (q.workflowId) filter.workflowId = q.workflowId;
        if (q.status) filter.status = q.status;
        if (q.eventId) filter.eventId = q.eventId;
        const created: Record<string, Date> = {};
        if (q.from) created.$gte = new Date(q.from);
        if (q.to) created.$lt = new Date(q.to);
        if (q.cursor) {
          const [at, id] = Buffer.from(q.cursor, 'base64url').toString().split('|');
          const after = new Date(at ?? '');
          // A cursor is only ever one this route handed out; anything else is the caller's mistake.
          if (Number.isNaN(after.getTime()) || !id) {
            throw new HttpError(400, 'VALIDATION_FAILED', 'query.cursor is not a cursor this list handed out', [{ path: 'query.cursor', message: 'is not a cursor this list handed out' }]);
          }
          filter.$or = [{ createdAt: { $lt: after } }, { createdAt: after, _id: { $lt: id } }];
        }
        if (Object.keys(created).length) filter.createdAt = created;
        const items = await engine.executionModel.find(filter).sort({ createdAt: -1, _id: -1 }).limit(q.limit).lean();
        const last = items.at(-1);
        return {
          body: {
            items: items.map((r) => executionView(r, false)),
            ...(items.length === q.limit && last ? { nextCursor: Buffer.from(`${last.createdAt.toISOString()}|${last._id}`).toString('base64url') } : {}),
          },
        };
      },
    },
    {
      method: 'get', path: '/api/executions/:id', summary: 'One execution with every step\'s input, output, policy decisions and errors', permission: 'executions:read', tags: ['executions'],
      params: executionIdParams,
      responses: { 200: { description: 'Execution', schema: executionSchema } },
      handler: async (req) => ({ body: executionView(await engine.execution(req.params.id as string), true) }),
    },
    {
      method: 'post', path: '/api/executions/:id/retry', summary: 'Retry a failed execution from the step that failed', permission: 'executions:manage', tags: ['executions'],
      params: executionIdParams,
      responses: { 202: { description: 'Queued again', schema: executionSchema }, 409: { description: 'Not a failed execution' } },
      handler: async (req) => {
        await engine.retry(req.params.id as string);
        return { status: 202, body: executionView(await engine.execution(req.params.id as string), false) };
      },
    },
    {
      method: 'post', path: '/api/executions/:id/cancel', summary: 'Cancel an execution; a step in flight is abandoned, not repeated', permission: 'executions:manage', tags: ['executions'],
      params: executionIdParams,
      responses: { 200: { description: 'Cancelled', schema: executionSchema }, 409: { description: 'Already finished' } },
      handler: async (req) => ({ body: executionView(await engine.cancel(req.params.id as string), false) }),
    },
  ];
}
