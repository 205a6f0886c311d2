import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../helpers/test-host.js';
import { ENGINE_PLUGINS, manualWorkflow } from './helpers.js';

interface Validation { valid: boolean; issues: Array<{ path: string; code: string; message: string }> }

describe('core/engine: workflow validation', () => {
  let t: TestServer;
  before(async () => { t = await startTestServer({ label: 'validation', plugins: ENGINE_PLUGINS }); });
  after(async () => { await t.stop(); });

  async function validate(workflow: unknown): Promise<Validation> {
    const result = await t.request<Validation>('post', '/api/workflows/validate', { as: 'viewer', body: workflow });
    assert.equal(result.status, 200);
    return result.body;
  }

  const cases: Array<{ name: string; workflow: unknown; code: string; path: string }> = [
    { name: 'an unknown trigger type', workflow: { id: 'x', trigger: { type: 'nope.thing@1' }, steps: [{ id: 'a', action: 'flow.log@1', input: { message: 'hi' } }] }, code: 'UNKNOWN_TRIGGER', path: 'trigger.type' },
    { name: 'an unknown action type', workflow: manualWorkflow('x', [{ id: 'a', action: 'flow.fly@1' }]), code: 'UNKNOWN_ACTION', path: 'steps[0].action' },
    { name: 'an unknown action version', workflow: manualWorkflow('x', [{ id: 'a', action: 'flow.log@7', input: { message: 'x' } }]), code: 'UNKNOWN_ACTION', path: 'steps[0].action' },
    { name: 'an unknown policy', workflow: manualWorkflow('x', [{ id: 'a', action: 'flow.log@1', input: { message: 'x' }, policies: [{ type: 'no.such@1' }] }]), code: 'UNKNOWN_POLICY', path: 'steps[0].policies[0].type' },
    { name: 'a policy config that fails its schema', workflow: manualWorkflow('x', [{ id: 'a', action: 'flow.log@1', input: { message: 'x' }, policies: [{ type: 'probe.gate@1', config: { decision: 'maybe' } }] }]), code: 'INVALID_POLICY_CONFIG', path: 'steps[0].policies[0].config.decision' },
    { name: 'an input that fails the action schema', workflow: manualWorkflow('x', [{ id: 'a', action: 'hello.greet@1', input: { name: 42 } }]), code: 'INVALID_INPUT', path: 'steps[0].input.name' },
    { name: 'an input missing a required field', workflow: manualWorkflow('x', [{ id: 'a', action: 'hello.greet@1', input: {} }]), code: 'INVALID_INPUT', path: 'steps[0].input.name' },
    { name: 'an unknown input field', workflow: manualWorkflow('x', [{ id: 'a', action: 'hello.greet@1', input: { name: 'x', shoe: 1 } }]), code: 'INVALID_INPUT', path: 'steps[0].input.shoe' },
    { name: 'next naming a missing step', workflow: manualWorkflow('x', [{ id: 'a', action: 'flow.log@1', input: { message: 'x' }, next: { default: 'ghost' } }]), code: 'UNKNOWN_STEP_REFERENCE', path: 'steps[0].next.default' },
    { name: 'next going backwards', workflow: manualWorkflow('x', [{ id: 'a', action: 'flow.log@1', input: { message: 'x' } }, { id: 'b', action: 'flow.log@1', input: { message: 'x' }, next: { default: 'a' } }]), code: 'NEXT_GOES_BACKWARD', path: 'steps[1].next.default' },
    { name: 'a port the action does not have', workflow: manualWorkflow('x', [{ id: 'a', action: 'flow.log@1', input: { message: 'x' }, next: { sideways: 'end' } }]), code: 'UNKNOWN_PORT', path: 'steps[0].next.sideways' },
    { name: 'duplicate step ids', workflow: manualWorkflow('x', [{ id: 'a', action: 'flow.log@1', input: { message: 'x' } }, { id: 'a', action: 'flow.log@1', input: { message: 'y' } }]), code: 'DUPLICATE_STEP_ID', path: 'steps[1].id' },
    { name: 'a template with an unknown root', workflow: manualWorkflow('x', [{ id: 'a', action: 'flow.log@1', input: { message: '{{process.env.SECRET}}' } }]), code: 'TEMPLATE_UNKNOWN_ROOT', path: 'steps[0].input' },
    { name: 'a template reading a later step', workflow: manualWorkflow('x', [{ id: 'a', action: 'flow.log@1', input: { message: '{{steps.b.output.message}}' } }, { id: 'b', action: 'flow.log@1', input: { message: 'x' } }]), code: 'TEMPLATE_STEP_NOT_BEFORE', path: 'steps[0].input' },
    { name: 'a template reading a step that does not exist', workflow: manualWorkflow('x', [{ id: 'a', action: 'flow.log@1', input: { message: '{{steps.ghost.output}}' } }]), code: 'TEMPLATE_UNKNOWN_STEP', path: 'steps[0].input' },
    { name: 'a template reading an output field that cannot exist', workflow: manualWorkflow('x', [{ id: 'a', action: 'hello.greet@1', input: { name: 'x' } }, { id: 'b', action: 'flow.log@1', input: { message: '{{steps.a.output.colour}}' } }]), code: 'TEMPLATE_UNKNOWN_FIELD', path: 'steps[1].input' },
    { name: 'a template reading a trigger field that cannot exist', workflow: { id: 'x', trigger: { type: 'hello.greeting@1' }, steps: [{ id: 'a', action: 'flow.log@1', input: { message: '{{trigger.shoeSize}}' } }] }, code: 'TEMPLATE_UNKNOWN_FIELD', path: 'steps[0].input' },
    { name: 'bad template syntax', workflow: manualWorkflow('x', [{ id: 'a', action: 'flow.log@1', input: { message: 'hello {{#if}' } }]), code: 'TEMPLATE_SYNTAX', path: 'steps[0].input' },
    { name: 'item used outside forEach', workflow: manualWorkflow('x', [{ id: 'a', action: 'flow.log@1', input: { message: '{{item.name}}' } }]), code: 'TEMPLATE_ITEM_OUTSIDE_FOREACH', path: 'steps[0].input' },
    { name: 'a trigger config that fails its schema', workflow: { id: 'x', trigger: { type: 'http.webhook@1', config: { path: 'Bad Path' } }, steps: [{ id: 'a', action: 'flow.log@1', input: { message: 'x' } }] }, code: 'INVALID_TRIGGER_CONFIG', path: 'trigger.config.path' },
    { name: 'an unknown top-level field', workflow: { ...manualWorkflow('x', [{ id: 'a', action: 'flow.log@1', input: { message: 'x' } }]), colour: 'red' }, code: 'WORKFLOW_SCHEMA', path: 'colour' },
    { name: 'onError naming a missing step', workflow: manualWorkflow('x', [{ id: 'a', action: 'flow.log@1', input: { message: 'x' } }], { onError: 'ghost' }), code: 'UNKNOWN_STEP_REFERENCE', path: 'onError' },
  ];

  for (const c of cases) {
    it(`reports ${c.name} with its path`, async () => {
      const result = await validate(c.workflow);
      assert.equal(result.valid, false);
      const match = result.issues.find((i) => i.code === c.code);
      assert.ok(match, `expected ${c.code}, got ${JSON.stringify(result.issues)}`);
      assert.equal(match.path, c.path);
      assert.ok(match.message.length > 10);
    });
  }

  it('accepts a valid workflow and refuses to store an invalid one with 422 and every issue', async () => {
    const good = manualWorkflow('valid-one', [{ id: 'a', action: 'hello.greet@1', input: { name: '{{trigger.name}}' } }, { id: 'b', action: 'flow.log@1', input: { message: '{{steps.a.output.text}}' } }]);
    assert.deepEqual(await validate(good), { valid: true, issues: [] });
    const bad = await t.request<{ error: { code: string; details: unknown[] } }>('post', '/api/workflows', { as: 'manager', body: manualWorkflow('bad-one', [{ id: 'a', action: 'flow.fly@1' }, { id: 'a', action: 'flow.log@1', input: {} }]) });
    assert.equal(bad.status, 422);
    assert.equal(bad.body.error.code, 'WORKFLOW_INVALID');
    assert.ok(bad.body.error.details.length >= 2);
    const missing = await t.request('get', '/api/workflows/bad-one', { as: 'viewer' });
    assert.equal(missing.status, 404);
  });

  it('refuses bodies that are not workflows at the schema level with 400', async () => {
    const wrongType = await t.request<{ error: { code: string; message: string } }>('post', '/api/workflows', { as: 'manager', body: { id: 'x', trigger: 'manual', steps: [] } });
    assert.equal(wrongType.status, 400);
    assert.match(wrongType.body.error.message, /trigger|steps/);
    const viewer = await t.request('post', '/api/workflows', { as: 'viewer', body: manualWorkflow('v', [{ id: 'a', action: 'flow.log@1', input: { message: 'x' } }]) });
    assert.equal(viewer.status, 403);
  });
});
