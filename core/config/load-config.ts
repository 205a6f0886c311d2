/**
 * Reads `config/default.json`, overlays `config/<NODE_ENV>.json`, then the environment, and
 * validates the result. A bad value stops boot with CONFIG_INVALID naming the key.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreError } from '../errors.js';
import { createAjv, describeErrors } from '../schema/ajv.js';
import { configSchema, environmentMapping, type FlowgateConfig } from './config-schema.js';

type Json = Record<string, unknown>;

export interface LoadConfigOptions {
  configDir: string;
  env?: NodeJS.ProcessEnv;
  /** Applied last; used by tests and the CLI. */
  overrides?: Json;
}

export function isPlainObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function deepMerge(base: Json, overlay: Json): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(overlay)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

function readJson(file: string): Json {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (!isPlainObject(parsed)) throw new Error('the top level must be an object');
    return parsed;
  } catch (error) {
    throw new CoreError('CONFIG_INVALID', `${file}: ${(error as Error).message}`);
  }
}

function setPath(target: Json, dottedPath: string, value: unknown): void {
  const keys = dottedPath.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (!isPlainObject(node[key])) node[key] = {};
    node = node[key] as Json;
  }
  node[keys[keys.length - 1] as string] = value;
}

/** The schema's declared type at a dotted path, if the path is in the schema. */
function declaredType(dottedPath: string): unknown {
  let node: Json | undefined = configSchema as unknown as Json;
  for (const key of dottedPath.split('.')) node = (node?.properties as Record<string, Json> | undefined)?.[key];
  return node?.type;
}

/** Strings stay strings where the schema wants one (`FLOWGATE__redis__keyPrefix=123`); other values are JSON when they parse. */
function parseEnvValue(dottedPath: string, raw: string): unknown {
  if (declaredType(dottedPath) === 'string') return raw;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function fromEnvironment(env: NodeJS.ProcessEnv): Json {
  const out: Json = {};
  for (const [name, path] of Object.entries(environmentMapping)) {
    const raw = env[name];
    if (raw !== undefined && raw !== '') setPath(out, path, parseEnvValue(path, raw));
  }
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('FLOWGATE__') || raw === undefined) continue;
    const path = name.slice('FLOWGATE__'.length).split('__').join('.');
    setPath(out, path, parseEnvValue(path, raw));
  }
  return out;
}

export function loadConfig(options: LoadConfigOptions): FlowgateConfig {
  const env = options.env ?? process.env;
  const nodeEnv = env.NODE_ENV ?? 'development';
  let merged = readJson(join(options.configDir, 'default.json'));
  const envFile = join(options.configDir, `${nodeEnv}.json`);
  if (existsSync(envFile)) merged = deepMerge(merged, readJson(envFile));
  merged = deepMerge(merged, fromEnvironment(env));
  if (options.overrides) merged = deepMerge(merged, options.overrides);
  return validateConfig(merged);
}

export function validateConfig(candidate: Json): FlowgateConfig {
  const validate = createAjv({ useDefaults: true }).compile(configSchema);
  if (!validate(candidate)) {
    const issues = describeErrors(validate.errors, 'config.');
    const first = issues[0];
    throw new CoreError('CONFIG_INVALID', `Invalid configuration: ${first?.path} ${first?.message}`, issues);
  }
  return candidate as unknown as FlowgateConfig;
}
