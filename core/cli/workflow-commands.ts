/**
 * `flowgate validate [paths]` and `flowgate test [paths]`: check workflow files and run their
 * fixture tests, printing a table and exiting non-zero on any failure.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import type { FlowgateConfig } from '../config/config-schema.js';
import { checkCase, fixtureSchema, type WorkflowFixture } from '../engine/fixtures.js';
import { WorkflowCompiler } from '../engine/workflow-compiler.js';
import { WorkflowEngine } from '../engine/workflow-engine.js';
import type { WorkflowDefinition } from '../engine/workflow-schema.js';
import { projectRoot } from '../paths.js';
import { createAjv, describeErrors } from '../schema/ajv.js';
import { FlowgateServer } from '../server.js';

interface Output { log(line: string): void }

/** A command line the command cannot run as given (exit code 2). */
export class UsageError extends Error {}

const isWorkflowFile = (name: string) => name.endsWith('.json') && !name.endsWith('.test.json') && !/(^|\.)schema\.json$/.test(name);

function collect(paths: readonly string[], config: FlowgateConfig, accept: (name: string) => boolean): string[] {
  const roots = paths.length ? paths : [resolve(projectRoot, config.workflows.dir)];
  return roots.flatMap((path) => {
    const full = resolve(path);
    if (!existsSync(full)) throw new UsageError(`${path} does not exist`);
    return statSync(full).isDirectory() ? readdirSync(full).filter(accept).sort().map((name) => join(full, name)) : [full];
  });
}

const shown = (file: string) => relative(process.cwd(), file) || file;

export async function validateWorkflows(config: FlowgateConfig, paths: readonly string[], out: Output): Promise<number> {
  const server = new FlowgateServer(config);
  await server.registerPlugins();
  const compiler = new WorkflowCompiler(server.contributions);
  let failures = 0;
  const files = collect(paths, config, isWorkflowFile);
  for (const file of files) {
    let candidate: unknown;
    try {
      candidate = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      failures++;
      out.log(`✗ ${shown(file)}\n    (file): ${(error as Error).message} [WORKFLOW_JSON]`);
      continue;
    }
    const result = compiler.compile(candidate);
    if (result.ok) {
      out.log(`✓ ${shown(file)}  ${result.workflow.id}: ${result.workflow.definition.trigger.type} → ${result.workflow.steps.length} step(s)`);
    } else {
      failures++;
      out.log(`✗ ${shown(file)}\n${result.issues.map((i) => `    ${i.path}: ${i.message} [${i.code}]`).join('\n')}`);
    }
  }
  out.log(`\n${files.length - failures} valid, ${failures} invalid`);
  return failures ? 1 : 0;
}

export async function testWorkflows(config: FlowgateConfig, paths: readonly string[], out: Output): Promise<number> {
  const fixtures = collect(paths, config, (name) => name.endsWith('.test.json')).filter((f) => f.endsWith('.test.json'));
  const validateFixture = createAjv().compile(fixtureSchema);
  const server = new FlowgateServer({ ...config, http: { ...config.http, port: 0 }, scheduler: { ...config.scheduler, enabled: false }, workflows: { ...config.workflows, watch: false } });
  await server.start({ listen: false });
  const rows: Array<{ file: string; name: string; ok: boolean; problems: string[] }> = [];
  try {
    const engine = server.get(WorkflowEngine);
    for (const file of fixtures) {
      const fixture = JSON.parse(readFileSync(file, 'utf8')) as WorkflowFixture;
      if (!validateFixture(fixture)) {
        rows.push({ file, name: '(fixture file)', ok: false, problems: describeErrors(validateFixture.errors).map((i) => `${i.path} ${i.message}`) });
        continue;
      }
      const workflowFile = resolve(dirname(file), fixture.workflow ?? basename(file).replace(/\.test\.json$/, '.json'));
      const definition = JSON.parse(readFileSync(workflowFile, 'utf8')) as WorkflowDefinition;
      for (const testCase of fixture.cases) {
        try {
          const result = await engine.dryRun(definition, testCase.event);
          const problems = checkCase(testCase, result);
          rows.push({ file, name: testCase.name, ok: problems.length === 0, problems });
        } catch (error) {
          rows.push({ file, name: testCase.name, ok: false, problems: [(error as Error).message] });
        }
      }
    }
  } finally {
    await server.stop();
  }
  const width = Math.max(8, ...rows.map((r) => shown(r.file).length));
  out.log(`${'result'.padEnd(6)}  ${'fixture'.padEnd(width)}  case`);
  for (const row of rows) {
    out.log(`${(row.ok ? 'pass' : 'FAIL').padEnd(6)}  ${shown(row.file).padEnd(width)}  ${row.name}`);
    for (const problem of row.problems) out.log(`${' '.repeat(width + 10)}- ${problem}`);
  }
  const failed = rows.filter((r) => !r.ok).length;
  out.log(`\n${rows.length - failed} passed, ${failed} failed`);
  return failed || rows.length === 0 ? 1 : 0;
}
