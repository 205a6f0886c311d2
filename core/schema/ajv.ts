/**
 * The one ajv configuration every schema in Flowgate is compiled with: request schemas, config,
 * workflow definitions, plugin contributions. Strict mode catches typos in schemas themselves.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { JsonSchema } from '../plugin-api.js';

// ajv-formats ships CommonJS with a default export that TypeScript sees one level down.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

export interface SchemaCompilerOptions {
  /** Fill in `default` values (config, request query) instead of only checking. */
  useDefaults?: boolean;
  /** Convert query-string scalars to the declared types. */
  coerceTypes?: boolean;
  /** Strict mode rejects sloppy schemas; off for conditions business users write in workflows. */
  strict?: boolean;
}

export function createAjv(options: SchemaCompilerOptions = {}): Ajv2020 {
  const ajv = new Ajv2020({
    allErrors: true,
    strict: options.strict ?? true,
    strictRequired: false,
    allowUnionTypes: true,
    useDefaults: options.useDefaults ?? false,
    coerceTypes: options.coerceTypes ? 'array' : false,
    removeAdditional: false,
  });
  addFormats(ajv);
  ajv.addKeyword({ keyword: 'x-secret', schemaType: 'boolean' });
  return ajv;
}

export interface SchemaIssue {
  /** JSON path of the failing value, e.g. `body.steps[2].input.phone` */
  path: string;
  message: string;
}

/** Turns ajv errors into `{path, message}` pairs with readable paths. */
export function describeErrors(errors: ErrorObject[] | null | undefined, root = ''): SchemaIssue[] {
  return (errors ?? []).map((error) => {
    let path = pointerToPath(error.instancePath);
    let message = error.message ?? 'is invalid';
    if (error.keyword === 'additionalProperties') {
      const extra = String((error.params as { additionalProperty: string }).additionalProperty);
      path = joinPath(path, extra);
      message = 'is not an allowed field';
    } else if (error.keyword === 'required') {
      const missing = String((error.params as { missingProperty: string }).missingProperty);
      path = joinPath(path, missing);
      message = 'is required';
    } else if (error.keyword === 'enum') {
      message = `must be one of ${JSON.stringify((error.params as { allowedValues: unknown[] }).allowedValues)}`;
    }
    return { path: withRoot(root, path), message };
  });
}

/** `root` ends with a dot (`body.`); the relative path may be empty or start with `[`. */
function withRoot(root: string, path: string): string {
  const base = root.replace(/\.$/, '');
  if (!path) return base || '(root)';
  if (!base) return path;
  return path.startsWith('[') ? `${base}${path}` : `${base}.${path}`;
}

function joinPath(base: string, key: string): string {
  const safe = /^[A-Za-z_$][\w$-]*$/.test(key) ? key : JSON.stringify(key);
  if (!base) return safe;
  return /^[A-Za-z_$][\w$-]*$/.test(key) ? `${base}.${key}` : `${base}[${safe}]`;
}

export function pointerToPath(pointer: string): string {
  if (!pointer) return '';
  return pointer.split('/').slice(1).reduce((path, raw) => {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    return /^\d+$/.test(segment) ? `${path}[${segment}]` : joinPath(path, segment);
  }, '');
}

/** Compile once and cache by object identity: schemas are declared once and reused. */
export class SchemaCache {
  private readonly compiled = new WeakMap<object, ValidateFunction>();
  constructor(readonly ajv: Ajv2020) {}
  get(schema: JsonSchema): ValidateFunction {
    let validate = this.compiled.get(schema);
    if (!validate) {
      validate = this.ajv.compile(schema);
      this.compiled.set(schema, validate);
    }
    return validate;
  }
}
