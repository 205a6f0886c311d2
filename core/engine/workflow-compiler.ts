/**
 * Validates a workflow completely before it can be enabled, and compiles it once per version:
 * schema, known types, trigger/policy config, literal inputs against the action's schema,
 * `next` targets and ports, template syntax and every variable a template references. Each
 * problem is reported with its JSON path (`steps[2].input.phone`).
 */
import { createHash } from 'node:crypto';
import type { ValidateFunction } from 'ajv';
import type { ActionContribution, JsonSchema, PolicyContribution, TriggerContribution } from '../plugin-api.js';
import type { Contributions, Registered } from '../plugins/contributions.js';
import { createAjv, describeErrors, SchemaCache } from '../schema/ajv.js';
import { compileTemplate, templateReferences, TEMPLATE_ROOTS, type Renderer } from './templates.js';
import { isParallelStep, workflowSchema, type PolicyRef, type RetrySpec, type WorkflowDefinition } from './workflow-schema.js';

export interface WorkflowIssue {
  path: string;
  code: string;
  message: string;
}

export interface CompiledPolicy {
  readonly ref: PolicyRef;
  readonly registered: Registered<PolicyContribution>;
}

export interface CompiledAction {
  readonly id: string;
  readonly registered: Registered<ActionContribution>;
  readonly input: Renderer;
  readonly policies: readonly CompiledPolicy[];
  readonly retry: RetrySpec;
  readonly timeoutMs?: number;
}

export interface CompiledStep {
  readonly id: string;
  readonly position: number;
  readonly condition?: ValidateFunction;
  /** One action, or several running in parallel. */
  readonly actions: readonly CompiledAction[];
  readonly parallel: boolean;
  readonly forEach?: Renderer;
  readonly next: Readonly<Record<string, string>>;
}

export interface CompiledWorkflow {
  readonly id: string;
  readonly version: number;
  readonly hash: string;
  readonly definition: WorkflowDefinition;
  readonly enabled: boolean;
  readonly trigger: { readonly registered: Registered<TriggerContribution>; readonly config: Record<string, unknown>; readonly when?: ValidateFunction };
  readonly steps: readonly CompiledStep[];
  readonly byId: ReadonlyMap<string, CompiledStep>;
  readonly onError?: string;
  readonly timeoutMs?: number;
}

export type CompileResult = { ok: true; workflow: CompiledWorkflow } | { ok: false; issues: WorkflowIssue[] };

const BUILTIN_PORTS = ['default', 'error', 'denied', 'skipped'];
const TEMPLATE_PLACEHOLDER = '\u0000template';

/** A canonical hash of a definition, so an unchanged file does not make a new version. */
export function definitionHash(definition: unknown): string {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.keys(value).sort().filter((k) => k !== 'version' && k !== '$schema').map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
    }
    return value;
  };
  return createHash('sha256').update(JSON.stringify(canonical(definition))).digest('hex').slice(0, 16);
}

export class WorkflowCompiler {
  private readonly ajv = createAjv({ useDefaults: true });
  private readonly validateShape = this.ajv.compile(workflowSchema);
  private readonly schemas = new SchemaCache(createAjv());
  private readonly conditions = createAjv({ strict: false });

  constructor(private readonly contributions: Contributions) {}

  compile(candidate: unknown, version = 1): CompileResult {
    const issues: WorkflowIssue[] = [];
    if (!this.validateShape(candidate)) {
      return { ok: false, issues: describeErrors(this.validateShape.errors).map((i) => ({ ...i, code: 'WORKFLOW_SCHEMA' })) };
    }
    const definition = candidate as WorkflowDefinition;
    const report = (path: string, code: string, message: string) => issues.push({ path, code, message });

    const trigger = this.contributions.triggers.get(definition.trigger.type);
    if (!trigger) report('trigger.type', 'UNKNOWN_TRIGGER', `No plugin provides the trigger ${definition.trigger.type}${this.suggest(definition.trigger.type, this.contributions.triggers.list())}`);
    else {
      this.checkAgainst(trigger.contribution.config, definition.trigger.config ?? {}, 'trigger.config', 'INVALID_TRIGGER_CONFIG', issues);
      const { listensTo } = trigger.contribution;
      if (listensTo !== undefined && !this.contributions.triggers.get(listensTo)) {
        report('trigger.type', 'UNKNOWN_TRIGGER', `${definition.trigger.type} selects from ${listensTo} events, and no loaded plugin provides ${listensTo}`);
      }
    }
    const when = this.compileCondition(definition.trigger.when, 'trigger.when', issues);

    const positions = new Map<string, number>();
    definition.steps.forEach((step, index) => {
      const ids = [step.id, ...(isParallelStep(step) ? step.parallel.map((b) => b.id) : [])];
      ids.forEach((id) => {
        if (positions.has(id)) report(`steps[${index}].id`, 'DUPLICATE_STEP_ID', `Step id ${id} is used more than once`);
        else positions.set(id, index);
      });
    });

    const workflowPolicies = this.compilePolicies(definition.policies ?? [], 'policies', issues);
    const steps: CompiledStep[] = definition.steps.map((step, index) => {
      const at = `steps[${index}]`;
      const condition = this.compileCondition(step.if, `${at}.if`, issues);
      const branches = isParallelStep(step)
        ? step.parallel.map((branch, b) => ({ def: branch, path: `${at}.parallel[${b}]` }))
        : [{ def: step, path: at }];
      const forEach = !isParallelStep(step) && step.forEach ? step.forEach : undefined;
      const actions: CompiledAction[] = branches.map(({ def, path }) => {
        const registered = this.contributions.actions.get(def.action);
        if (!registered) report(`${path}.action`, 'UNKNOWN_ACTION', `No plugin provides the action ${def.action}${this.suggest(def.action, this.contributions.actions.list())}`);
        else this.checkInput(registered.contribution.input, def.input, `${path}.input`, issues);
        this.checkReferences(def.input, `${path}.input`, index, positions, definition, Boolean(forEach), issues);
        return {
          id: def.id,
          registered: registered as Registered<ActionContribution>,
          input: this.compileTemplates(def.input ?? {}, `${path}.input`, issues),
          policies: [...workflowPolicies, ...this.compilePolicies(def.policies ?? [], `${path}.policies`, issues)],
          retry: def.retry ?? { max: 0 },
          ...(def.timeout ? { timeoutMs: def.timeout } : {}),
        };
      });
      if (forEach) this.checkReferences(forEach, `${at}.forEach`, index, positions, definition, false, issues);
      const ports = new Set([...BUILTIN_PORTS, ...actions.flatMap((a) => a.registered?.contribution.ports ?? [])]);
      for (const [port, target] of Object.entries(step.next ?? {})) {
        if (!ports.has(port)) report(`${at}.next.${port}`, 'UNKNOWN_PORT', `Port ${port} is not one of ${[...ports].join(', ')}`);
        if (target === 'end') continue;
        const targetIndex = definition.steps.findIndex((s) => s.id === target);
        if (targetIndex < 0) report(`${at}.next.${port}`, 'UNKNOWN_STEP_REFERENCE', `next.${port} names step ${target}, which does not exist`);
        else if (targetIndex <= index) report(`${at}.next.${port}`, 'NEXT_GOES_BACKWARD', `next.${port} goes back to step ${target}; workflows only move forward (no loops)`);
      }
      return {
        id: step.id, position: index, parallel: isParallelStep(step), actions, next: step.next ?? {},
        ...(condition ? { condition } : {}),
        ...(forEach ? { forEach: this.compileTemplates(forEach, `${at}.forEach`, issues) } : {}),
      };
    });
    if (definition.onError && !definition.steps.some((s) => s.id === definition.onError)) {
      report('onError', 'UNKNOWN_STEP_REFERENCE', `onError names step ${definition.onError}, which does not exist`);
    }
    if (issues.length || !trigger) return { ok: false, issues };
    return {
      ok: true,
      workflow: {
        id: definition.id, version, hash: definitionHash(definition), definition, enabled: definition.enabled ?? true,
        trigger: { registered: trigger, config: definition.trigger.config ?? {}, ...(when ? { when } : {}) },
        steps, byId: new Map(steps.map((s) => [s.id, s])),
        ...(definition.onError ? { onError: definition.onError } : {}),
        ...(definition.timeout ? { timeoutMs: definition.timeout } : {}),
      },
    };
  }

  private suggest(type: string, available: Array<{ id: string }>): string {
    const base = type.split('@')[0];
    const near = available.filter((a) => a.id.split('@')[0] === base).map((a) => a.id);
    return near.length ? ` (available versions: ${near.join(', ')})` : '';
  }

  private compilePolicies(refs: readonly PolicyRef[], path: string, issues: WorkflowIssue[]): CompiledPolicy[] {
    return refs.flatMap((ref, index) => {
      const registered = this.contributions.policies.get(ref.type);
      if (!registered) {
        issues.push({ path: `${path}[${index}].type`, code: 'UNKNOWN_POLICY', message: `No plugin provides the policy ${ref.type}` });
        return [];
      }
      this.checkAgainst(registered.contribution.config, ref.config ?? {}, `${path}[${index}].config`, 'INVALID_POLICY_CONFIG', issues);
      return [{ ref, registered }];
    });
  }

  private compileCondition(schema: Record<string, unknown> | undefined, path: string, issues: WorkflowIssue[]): ValidateFunction | undefined {
    if (!schema) return undefined;
    try {
      return this.conditions.compile(schema);
    } catch (error) {
      issues.push({ path, code: 'INVALID_CONDITION', message: `Not a valid JSON Schema: ${(error as Error).message}` });
      return undefined;
    }
  }

  private compileTemplates(value: unknown, path: string, issues: WorkflowIssue[]): Renderer {
    try {
      return compileTemplate(value);
    } catch (error) {
      issues.push({ path, code: 'TEMPLATE_SYNTAX', message: (error as Error).message.split('\n')[0] ?? 'bad template' });
      return () => undefined;
    }
  }

  private checkAgainst(schema: JsonSchema, value: unknown, path: string, code: string, issues: WorkflowIssue[]): void {
    const validate = this.schemas.get(schema);
    if (!validate(value)) for (const issue of describeErrors(validate.errors, `${path}.`)) issues.push({ ...issue, code });
  }

  /** Checks literal parts of an input; templated values are checked when the step runs. */
  private checkInput(schema: JsonSchema, input: unknown, path: string, issues: WorkflowIssue[]): void {
    const templated = new Set<string>();
    const shape = (value: unknown, pointer: string): unknown => {
      if (typeof value === 'string' && value.includes('{{')) {
        templated.add(pointer);
        return TEMPLATE_PLACEHOLDER;
      }
      if (Array.isArray(value)) return value.map((v, i) => shape(v, `${pointer}/${i}`));
      if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape(v, `${pointer}/${k}`)]));
      return value;
    };
    const validate = this.schemas.get(schema);
    if (validate(shape(input ?? {}, ''))) return;
    const relevant = (validate.errors ?? []).filter((e) => ![...templated].some((t) => e.instancePath === t || e.instancePath.startsWith(`${t}/`)));
    for (const issue of describeErrors(relevant, `${path}.`)) issues.push({ ...issue, code: 'INVALID_INPUT' });
  }

  private checkReferences(value: unknown, path: string, stepIndex: number, positions: Map<string, number>, definition: WorkflowDefinition, insideForEach: boolean, issues: WorkflowIssue[]): void {
    let references;
    try {
      references = templateReferences(value);
    } catch (error) {
      issues.push({ path, code: 'TEMPLATE_SYNTAX', message: (error as Error).message.split('\n')[0] ?? 'bad template' });
      return;
    }
    for (const { path: parts, relative } of references) {
      if (relative) continue;
      const [root, ...rest] = parts as [string, ...string[]];
      const shown = parts.join('.');
      if (!(TEMPLATE_ROOTS as readonly string[]).includes(root)) {
        issues.push({ path, code: 'TEMPLATE_UNKNOWN_ROOT', message: `{{${shown}}}: templates start with one of ${TEMPLATE_ROOTS.join(', ')}` });
      } else if ((root === 'item' || root === 'index') && !insideForEach) {
        issues.push({ path, code: 'TEMPLATE_ITEM_OUTSIDE_FOREACH', message: `{{${shown}}} exists only in a step with forEach` });
      } else if (root === 'trigger') {
        const trigger = this.contributions.triggers.get(definition.trigger.type);
        const event = trigger ? this.contributions.triggerEventSchema(trigger) : undefined;
        if (event && !schemaHasPath(event, rest)) {
          issues.push({ path, code: 'TEMPLATE_UNKNOWN_FIELD', message: `{{${shown}}}: the ${definition.trigger.type} event has no field ${rest.join('.')}` });
        }
      } else if (root === 'steps') {
        const [stepId, section, ...field] = rest;
        const position = stepId === undefined ? undefined : positions.get(stepId);
        if (stepId === undefined || position === undefined) {
          issues.push({ path, code: 'TEMPLATE_UNKNOWN_STEP', message: `{{${shown}}}: there is no step ${stepId ?? ''}` });
        } else if (position >= stepIndex) {
          issues.push({ path, code: 'TEMPLATE_STEP_NOT_BEFORE', message: `{{${shown}}}: step ${stepId} does not run before this one` });
        } else if (section !== undefined && section !== 'output' && section !== 'port') {
          issues.push({ path, code: 'TEMPLATE_UNKNOWN_FIELD', message: `{{${shown}}}: a step has output and port` });
        } else if (section === 'output') {
          const step = definition.steps[position];
          const single = step && !isParallelStep(step) && !step.forEach ? step : undefined;
          const action = single ? this.contributions.actions.get(single.action) : undefined;
          if (single && action && !schemaHasPath(action.contribution.output, field)) {
            issues.push({ path, code: 'TEMPLATE_UNKNOWN_FIELD', message: `{{${shown}}}: ${single.action} output has no field ${field.join('.')}` });
          }
        }
      }
    }
  }
}

/** True when `path` can exist in values of `schema` (unknown shapes are given the benefit of the doubt). */
export function schemaHasPath(schema: JsonSchema | undefined, path: readonly string[]): boolean {
  if (!schema || path.length === 0) return true;
  const [head, ...rest] = path as [string, ...string[]];
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const options = schema[key] as JsonSchema[] | undefined;
    if (options) return options.some((option) => schemaHasPath(option, path));
  }
  if (schema.type === 'array' || schema.items) {
    return /^\d+$/.test(head) ? schemaHasPath(schema.items as JsonSchema | undefined, rest) : head === 'length';
  }
  const properties = schema.properties as Record<string, JsonSchema> | undefined;
  if (properties && head in properties) return schemaHasPath(properties[head], rest);
  if (schema.additionalProperties === false) return false;
  if (typeof schema.additionalProperties === 'object') return schemaHasPath(schema.additionalProperties as JsonSchema, rest);
  return !properties || schema.additionalProperties === true || schema.additionalProperties === undefined;
}

