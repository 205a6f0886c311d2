/**
 * Step inputs are handlebars templates over the execution context, compiled once per workflow
 * version and rendered strictly: a missing variable fails the step instead of becoming "".
 * A string that is exactly one `{{path}}` yields the value itself (a number stays a number,
 * an array an array), so inputs keep their types.
 */
import Handlebars from 'handlebars';
import { StepError } from '../errors.js';

/** Roots a template may reference. `item`/`index` exist inside forEach, `error` on error paths. */
export const TEMPLATE_ROOTS = ['trigger', 'steps', 'env', 'workflow', 'item', 'index', 'error', 'execution'] as const;

const handlebars = Handlebars.create();
const asString = (value: unknown): string => (value === undefined || value === null ? '' : String(value));
const helpers: Record<string, Handlebars.HelperDelegate> = {
  upper: (value: unknown) => asString(value).toUpperCase(),
  lower: (value: unknown) => asString(value).toLowerCase(),
  trim: (value: unknown) => asString(value).trim(),
  default: (value: unknown, fallback: unknown) => (value === undefined || value === null || value === '' ? fallback : value),
  json: (value: unknown) => JSON.stringify(value),
  /** `{{date value "iso"|"date"|"time"|"unix"}}`; `{{date "now" "iso"}}` for the current time. */
  date: (value: unknown, format: unknown) => {
    const date = value === 'now' ? new Date() : new Date(value as string | number);
    if (Number.isNaN(date.getTime())) throw new Error(`date: ${JSON.stringify(value)} is not a date`);
    switch (typeof format === 'string' ? format : 'iso') {
      case 'date': return date.toISOString().slice(0, 10);
      case 'time': return date.toISOString().slice(11, 19);
      case 'unix': return String(Math.floor(date.getTime() / 1000));
      default: return date.toISOString();
    }
  },
};
for (const [name, helper] of Object.entries(helpers)) handlebars.registerHelper(name, helper);
const knownHelpers = { ...Object.fromEntries(Object.keys(helpers).map((name) => [name, true])), each: true, if: true, unless: true, with: false, lookup: false, log: false };

export type Renderer = (context: Record<string, unknown>) => unknown;

const SINGLE_PATH = /^\s*\{\{\s*([A-Za-z_][\w-]*(?:\.[A-Za-z_0-9][\w-]*)*)\s*\}\}\s*$/;

/** A variable reference found in a template, e.g. `steps.revoke.output.at`. */
export interface TemplateReference {
  path: string[];
  /** Inside `{{#each}}` the references are relative and not checked. */
  relative: boolean;
}

/** Compiles `value` (any JSON) into a renderer; throws with the template's problem on bad syntax. */
export function compileTemplate(value: unknown): Renderer {
  if (typeof value === 'string') {
    const single = SINGLE_PATH.exec(value);
    if (single && !(single[1] as string in helpers)) {
      const path = (single[1] as string).split('.');
      return (context) => resolvePath(context, path);
    }
    if (!value.includes('{{')) return () => value;
    const template = handlebars.compile(value, { strict: true, noEscape: true, knownHelpersOnly: true, knownHelpers });
    // compile() is lazy; precompiling now surfaces syntax errors and unknown helpers at load time.
    handlebars.precompile(value, { strict: true, knownHelpersOnly: true, knownHelpers });
    return (context) => {
      try {
        return template(context);
      } catch (error) {
        throw new StepError('TEMPLATE_MISSING_VARIABLE', `Template ${JSON.stringify(value)}: ${(error as Error).message.split('\n')[0]}`);
      }
    };
  }
  if (Array.isArray(value)) {
    const items = value.map(compileTemplate);
    return (context) => items.map((render) => render(context));
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).map(([key, inner]) => [key, compileTemplate(inner)] as const);
    return (context) => Object.fromEntries(entries.map(([key, render]) => [key, render(context)]));
  }
  return () => value;
}

function resolvePath(context: Record<string, unknown>, path: string[]): unknown {
  let node: unknown = context;
  for (const [index, key] of path.entries()) {
    if (node === null || typeof node !== 'object' || !Object.prototype.hasOwnProperty.call(node, key)) {
      throw new StepError('TEMPLATE_MISSING_VARIABLE', `Template variable ${path.join('.')}: "${key}" is not defined${index ? ` in ${path.slice(0, index).join('.')}` : ''}`);
    }
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** Lists every variable path a template (any JSON value) references, for load-time checks. */
export function templateReferences(value: unknown): TemplateReference[] {
  const out: TemplateReference[] = [];
  const visit = (node: unknown): void => {
    if (typeof node === 'string' && node.includes('{{')) {
      walkProgram(handlebars.parse(node) as unknown as { body: HbsNode[] }, false, out);
    } else if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === 'object') Object.values(node).forEach(visit);
  };
  visit(value);
  return out;
}

type HbsNode = { type: string; [key: string]: unknown };

function walkProgram(program: { body: HbsNode[] }, relative: boolean, out: TemplateReference[]): void {
  for (const statement of program.body) walkNode(statement, relative, out);
}

function walkNode(node: HbsNode | undefined, relative: boolean, out: TemplateReference[]): void {
  if (!node) return;
  switch (node.type) {
    case 'PathExpression': {
      const path = node as unknown as { parts: string[]; data: boolean; depth: number; original: string };
      if (!path.data && path.parts.length && path.original !== 'this') out.push({ path: path.parts, relative: relative || path.depth > 0 });
      return;
    }
    case 'MustacheStatement':
    case 'SubExpression': {
      const mustache = node as unknown as { path: HbsNode; params: HbsNode[]; hash?: { pairs: Array<{ value: HbsNode }> } };
      const isHelper = mustache.params.length > 0 || (mustache.path.type === 'PathExpression' && (mustache.path as unknown as { original: string }).original in helpers);
      if (!isHelper) walkNode(mustache.path, relative, out);
      for (const param of mustache.params) walkNode(param, relative, out);
      for (const pair of mustache.hash?.pairs ?? []) walkNode(pair.value, relative, out);
      return;
    }
    case 'BlockStatement': {
      const block = node as unknown as { path: { original: string }; params: HbsNode[]; program?: { body: HbsNode[] }; inverse?: { body: HbsNode[] } };
      for (const param of block.params) walkNode(param, relative, out);
      const inner = relative || block.path.original === 'each';
      if (block.program) walkProgram(block.program, inner, out);
      if (block.inverse) walkProgram(block.inverse, relative, out);
      return;
    }
    default:
      return;
  }
}
