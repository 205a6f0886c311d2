/**
 * The workflow format. This one schema validates workflow files and API bodies, gives the
 * TypeScript type, is published as `workflows/schema.json` for editors, and appears in the
 * OpenAPI document.
 */
import type { FromSchema } from 'json-schema-to-ts';

const typeId = { type: 'string', pattern: '^[a-z][a-z0-9-]*(\\.[a-z][a-z0-9-]*)+@[1-9][0-9]*$', description: 'Namespaced, versioned type: plugin.type@1' } as const;
const stepId = { type: 'string', pattern: '^[a-zA-Z][a-zA-Z0-9_-]{0,63}$', description: 'Stable step id, referenced by next and templates' } as const;

const policyRef = {
  type: 'object',
  additionalProperties: false,
  required: ['type'],
  properties: { type: typeId, config: { type: 'object' } },
} as const;

const retry = {
  type: 'object',
  additionalProperties: false,
  required: ['max'],
  properties: {
    max: { type: 'integer', minimum: 0, maximum: 20, description: 'Retries after the first attempt' },
    backoff: {
      type: 'object',
      additionalProperties: false,
      properties: {
        initialMs: { type: 'integer', minimum: 1, description: 'First delay; 1000 when omitted' },
        factor: { type: 'number', minimum: 1, maximum: 10, description: 'Growth per retry; 2 when omitted' },
        maxMs: { type: 'integer', minimum: 1, description: 'Longest delay; 300000 when omitted' },
      },
    },
  },
} as const;

const next = {
  type: 'object',
  description: 'Output port → step id or "end". Ports: default, error, denied, skipped, or one the action declares.',
  propertyNames: { pattern: '^[a-zA-Z][a-zA-Z0-9_-]{0,63}$' },
  additionalProperties: { type: 'string', pattern: '^[a-zA-Z][a-zA-Z0-9_-]{0,63}$' },
} as const;

const actionStep = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'action'],
  properties: {
    id: stepId,
    name: { type: 'string', maxLength: 200 },
    action: typeId,
    input: { description: 'Handlebars templates over trigger, steps.<id>.output, env, workflow (and item/index in forEach)' },
    if: { type: 'object', description: 'JSON Schema the context must match, else the step is skipped' },
    forEach: { type: 'string', pattern: '^\\s*\\{\\{[^{}]+\\}\\}\\s*$', description: 'One template expression giving an array; the step runs once per item' },
    policies: { type: 'array', items: policyRef },
    retry,
    timeout: { type: 'integer', minimum: 1, maximum: 3600000, description: 'Milliseconds one attempt may take' },
    next,
  },
} as const;

const parallelStep = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'parallel'],
  properties: {
    id: stepId,
    name: { type: 'string', maxLength: 200 },
    if: { type: 'object' },
    parallel: {
      type: 'array',
      minItems: 2,
      maxItems: 20,
      description: 'Branches that run at the same time; each is one action',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'action'],
        properties: { id: stepId, action: typeId, input: {}, policies: { type: 'array', items: policyRef }, retry, timeout: { type: 'integer', minimum: 1, maximum: 3600000 } },
      },
    },
    next,
  },
} as const;

export const workflowSchema = {
  $id: 'https://flowgate.dev/schemas/workflow.json',
  title: 'Flowgate workflow',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'trigger', 'steps'],
  properties: {
    $schema: { type: 'string' },
    id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,63}$', description: 'Stable workflow id' },
    version: { type: 'integer', minimum: 1, description: 'Informational; the server numbers stored versions itself' },
    name: { type: 'string', maxLength: 200 },
    description: { type: 'string', maxLength: 2000 },
    enabled: { type: 'boolean', default: true },
    timeout: { type: 'integer', minimum: 1000, maximum: 604800000, description: 'Milliseconds an execution may run in all (waiting included)' },
    trigger: {
      type: 'object',
      additionalProperties: false,
      required: ['type'],
      properties: {
        type: typeId,
        config: { type: 'object' },
        when: { type: 'object', description: 'JSON Schema the trigger event must match' },
      },
    },
    policies: { type: 'array', items: policyRef, description: 'Guard every step' },
    steps: { type: 'array', minItems: 1, maxItems: 200, items: { anyOf: [actionStep, parallelStep] } },
    onError: { ...stepId, description: 'Step to run when a step fails after its retries and has no error port' },
  },
} as const;

export type WorkflowDefinition = FromSchema<typeof workflowSchema>;
export type WorkflowStep = WorkflowDefinition['steps'][number];
export type ActionStep = Extract<WorkflowStep, { action: string }>;
export type ParallelStep = Extract<WorkflowStep, { parallel: unknown }>;
export type PolicyRef = { type: string; config?: Record<string, unknown> };
export type RetrySpec = { max: number; backoff?: { initialMs?: number; factor?: number; maxMs?: number } };

export const isParallelStep = (step: WorkflowStep): step is ParallelStep => 'parallel' in step;
