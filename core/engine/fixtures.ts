/**
 * Workflow tests as configuration: `<workflow>.test.json` beside a workflow lists sample events
 * and what should happen (matched or not, step statuses, inputs, outputs, policy decisions).
 * `flowgate test` runs them as dry runs, so business users can keep workflows under CI.
 */
import { isDeepStrictEqual } from 'node:util';
import type { FromSchema } from 'json-schema-to-ts';
import type { DryRunResult } from './workflow-engine.js';

const stepExpectation = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: {
    id: { type: 'string' },
    status: { enum: ['succeeded', 'failed', 'retrying', 'denied', 'deferred', 'skipped'] },
    input: { description: 'Expected fields of the rendered input (a subset)' },
    output: { description: 'Expected fields of the output (a subset)' },
    decisions: { type: 'array', items: { enum: ['allow', 'deny', 'defer'] }, description: 'Policy decisions in order' },
    denyCode: { type: 'string', description: 'The code of the policy that denied or deferred' },
  },
} as const;

export const fixtureSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['cases'],
  properties: {
    $schema: { type: 'string' },
    workflow: { type: 'string', description: 'Workflow file, relative to this one; defaults to the name without .test' },
    cases: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'event', 'expect'],
        properties: {
          name: { type: 'string' },
          event: { type: 'object', description: 'The trigger event payload' },
          expect: {
            type: 'object',
            additionalProperties: false,
            required: ['matched'],
            properties: {
              matched: { type: 'boolean' },
              status: { enum: ['succeeded', 'failed', 'waiting', 'cancelled'] },
              steps: { type: 'array', items: stepExpectation, description: 'The steps that run, in order' },
            },
          },
        },
      },
    },
  },
} as const;

export type WorkflowFixture = FromSchema<typeof fixtureSchema>;
export type FixtureCase = WorkflowFixture['cases'][number];

/** True when every field in `expected` is in `actual` with the same value (recursively). */
export function containsSubset(actual: unknown, expected: unknown): boolean {
  if (expected && typeof expected === 'object' && !Array.isArray(expected)) {
    if (!actual || typeof actual !== 'object') return false;
    return Object.entries(expected).every(([key, value]) => containsSubset((actual as Record<string, unknown>)[key], value));
  }
  return isDeepStrictEqual(actual, expected);
}

/** Compares a dry run with a case's expectations; returns the differences (empty when it passes). */
export function checkCase(testCase: FixtureCase, result: DryRunResult): string[] {
  const problems: string[] = [];
  const expect = testCase.expect;
  if (result.matched !== expect.matched) problems.push(`expected the trigger ${expect.matched ? 'to match' : 'not to match'}${result.reason ? ` (${result.reason})` : ''}`);
  if (!expect.matched || !result.matched) return problems;
  if (expect.status && result.status !== expect.status) problems.push(`expected status ${expect.status}, got ${result.status}${result.error ? ` (${result.error.code}: ${result.error.message})` : ''}`);
  if (expect.steps) {
    const ran = result.steps.map((s) => s.stepId);
    const wanted = expect.steps.map((s) => s.id);
    if (!isDeepStrictEqual(ran, wanted)) problems.push(`expected steps ${wanted.join(' → ') || '(none)'}, ran ${ran.join(' → ') || '(none)'}`);
    expect.steps.forEach((step, index) => {
      const actual = result.steps[index];
      if (!actual || actual.stepId !== step.id) return;
      if (step.status && actual.status !== step.status) problems.push(`step ${step.id}: expected ${step.status}, got ${actual.status}${actual.error ? ` (${actual.error.code})` : ''}`);
      if (step.input !== undefined && !containsSubset(actual.input, step.input)) problems.push(`step ${step.id}: input ${JSON.stringify(actual.input)} does not contain ${JSON.stringify(step.input)}`);
      if (step.output !== undefined && !containsSubset(actual.output, step.output)) problems.push(`step ${step.id}: output ${JSON.stringify(actual.output)} does not contain ${JSON.stringify(step.output)}`);
      const decisions = actual.decisions.map((d) => d.decision);
      if (step.decisions && !isDeepStrictEqual(decisions, step.decisions)) problems.push(`step ${step.id}: expected decisions ${step.decisions.join(', ')}, got ${decisions.join(', ') || '(none)'}`);
      const decisive = actual.decisions.find((d) => d.decision !== 'allow');
      if (step.denyCode && decisive?.code !== step.denyCode) problems.push(`step ${step.id}: expected ${step.denyCode} to decide, got ${decisive?.code ?? 'no denial'}`);
    });
  }
  return problems;
}
