import assert from 'node:assert/strict';
import type { TestServer } from '../../helpers/test-host.js';
import { orderTemplate, startTemplates, type TemplatesHarness } from './harness.js';

type Json = Record<string, unknown>;
interface ErrorBody { error: { code: string; message: string; details: Array<{ path: string; code?: string; message: string }> | { issues: Array<{ code: string; path: string }> } & Json } }

let counter = 0;
/** A template named uniquely, with the given components and examples. */
function template(components: Json[], variables: Json = {}, over: Json = {}): Json {
  return { name: `rule_${counter++}`, language: 'en_US', category: 'UTILITY', components, variables, ...over };
}
const body = (text: string): Json => ({ type: 'BODY', text });
const buttons = (...list: Json[]): Json => ({ type: 'BUTTONS', buttons: list });
const quick = (text = 'OK'): Json => ({ type: 'QUICK_REPLY', text });
const url = (address = 'https://shop.example/a', text = 'Open'): Json => ({ type: 'URL', text, url: address });
const phone = (): Json => ({ type: 'PHONE_NUMBER', text: 'Call us', phoneNumber: '+15550783881' });
const copyCode = (example = 'SAVE10'): Json => ({ type: 'COPY_CODE', example });

const VALID: Array<[string, Json]> = [
  ['a body without variables', template([body('Your order has shipped.')])],
  ['positional body variables with examples', template([body('Hi {{1}}, your order {{2}} has shipped.')], { body: ['Jessica', '#1042'] })],
  ['a positional variable used twice', template([body('{{1}}, hello. Bye, {{1}}.')], { body: ['Jessica'] })],
  ['named variables', template([body('Hi {{first_name}}, order {{order_id}} shipped.')], { body: { first_name: 'Jessica', order_id: '#1042' } }, { parameterFormat: 'named' })],
  ['header, body, footer and buttons', orderTemplate('rule_full')],
  ['an image header with a sample handle', template([{ type: 'HEADER', format: 'IMAGE', mediaHandle: '4::aW1hZ2UvcG5n:ARb' }, body('Look at this.')], {}, { category: 'MARKETING' })],
  ['a location header in a utility template', template([{ type: 'HEADER', format: 'LOCATION' }, body('Your pickup point.')])],
  ['ten quick replies', template([body('Pick one.'), buttons(...Array.from({ length: 10 }, (_, i) => quick(`Option ${i}`)))])],
  ['grouped quick replies with 2 URL, 1 phone and 1 copy-code buttons', template([body('Choose.'), buttons(quick('A'), quick('B'), url(), url('https://shop.example/b'), phone(), copyCode())])],
  ['an authentication template with a code of 15 characters', template([body('{{1}} is your verification code.'), buttons(copyCode('123456789012345'))], { body: ['123456789012345'] }, { category: 'AUTHENTICATION' })],
  ['the maximum lengths', template([
    { type: 'HEADER', format: 'TEXT', text: 'h'.repeat(60) }, body('b'.repeat(1024)), { type: 'FOOTER', text: 'f'.repeat(60) },
    buttons(quick('q'.repeat(25)), url(`https://x.example/${'u'.repeat(1982)}`)),
  ], {}, { name: 'n'.repeat(512) })],
  ['language codes en and pt_BR', template([body('Olá.')], {}, { language: 'pt_BR' })],
];

/** Shapes JSON Schema catches: 400 VALIDATION_FAILED naming the path. */
const SCHEMA_ERRORS: Array<[string, Json, string]> = [
  ['a name with capitals', template([body('x')], {}, { name: 'Order_Update' }), 'body.name'],
  ['a name with a dash', template([body('x')], {}, { name: 'order-update' }), 'body.name'],
  ['a name of 513 characters', template([body('x')], {}, { name: 'n'.repeat(513) }), 'body.name'],
  ['a language with a hyphen', template([body('x')], {}, { language: 'en-US' }), 'body.language'],
  ['a language in capitals', template([body('x')], {}, { language: 'EN' }), 'body.language'],
  ['an unknown category', template([body('x')], {}, { category: 'PROMOTION' }), 'body.category'],
  ['an unknown parameter format', template([body('x')], {}, { parameterFormat: 'mixed' }), 'body.parameterFormat'],
  ['a body of 1025 characters', template([body('b'.repeat(1025))]), 'body.components[0].text'],
  ['a header of 61 characters', template([{ type: 'HEADER', format: 'TEXT', text: 'h'.repeat(61) }, body('x')]), 'body.components[0].text'],
  ['a footer of 61 characters', template([body('x'), { type: 'FOOTER', text: 'f'.repeat(61) }]), 'body.components[1].text'],
  ['a button label of 26 characters', template([body('x'), buttons(quick('q'.repeat(26)))]), 'body.components[1].buttons[0].text'],
  ['a URL of 2001 characters', template([body('x'), buttons(url(`https://x.example/${'u'.repeat(1983)}`))]), 'body.components[1].buttons[0].url'],
  ['a URL that is not http(s)', template([body('x'), buttons(url('ftp://x.example'))]), 'body.components[1].buttons[0].url'],
  ['a phone number of 21 characters', template([body('x'), buttons({ type: 'PHONE_NUMBER', text: 'Call', phoneNumber: '+1234567890123456789012' })]), 'body.components[1].buttons[0].phoneNumber'],
  ['a copy code example of 16 characters', template([body('x'), buttons(copyCode('1234567890123456'))]), 'body.components[1].buttons[0].example'],
  ['eleven buttons', template([body('x'), buttons(...Array.from({ length: 11 }, (_, i) => quick(`Option ${i}`)))]), 'body.components[1].buttons'],
  ['an unknown button type', template([body('x'), buttons({ type: 'FLOW', text: 'Go' })]), 'body.components[1].buttons[0].type'],
  ['an unknown component type', template([{ type: 'CAROUSEL', cards: [] }]), 'body.components[0].type'],
  ['an unknown field in a component', template([{ type: 'BODY', text: 'x', color: 'red' }]), 'body.components[0].color'],
  ['a media header without a sample handle', template([{ type: 'HEADER', format: 'VIDEO' }, body('x')]), 'body.components[0].mediaHandle'],
  ['no components', template([]), 'body.components'],
  ['five components', template([body('a'), body('b'), body('c'), body('d'), body('e')]), 'body.components'],
  ['an unknown top-level field', template([body('x')], {}, { status: 'APPROVED' }), 'body.status'],
  ['an empty example value', template([body('Hi {{1}}.')], { body: [''] }), 'body.variables.body'],
];

/** WhatsApp rules beyond JSON Schema: 422 TEMPLATE_INVALID with the rule's code at the path. */
const RULE_ERRORS: Array<[string, Json, string, string]> = [
  ['no BODY', template([{ type: 'HEADER', format: 'TEXT', text: 'Hello' }]), 'TEMPLATE_BODY_REQUIRED', 'body.components'],
  ['two BODY components', template([body('a'), body('b')]), 'TEMPLATE_COMPONENT_DUPLICATE', 'body.components[1]'],
  ['a variable with spaces', template([body('Hi {{ 1 }}.')]), 'TEMPLATE_PLACEHOLDER_INVALID', 'body.components[0].text'],
  ['a variable with capitals', template([body('Hi {{First}}.')]), 'TEMPLATE_PLACEHOLDER_INVALID', 'body.components[0].text'],
  ['variable zero', template([body('Hi {{0}}.')]), 'TEMPLATE_PLACEHOLDER_INVALID', 'body.components[0].text'],
  ['triple braces', template([body('Hi {{{1}}}.')], { body: ['x'] }), 'TEMPLATE_PLACEHOLDER_INVALID', 'body.components[0].text'],
  ['an unmatched closing pair', template([body('Hi }} there.')]), 'TEMPLATE_PLACEHOLDER_INVALID', 'body.components[0].text'],
  ['a named variable in a positional template', template([body('Hi {{name}}.')], { body: { name: 'x' } }), 'TEMPLATE_PARAMETER_FORMAT_MISMATCH', 'body.components[0].text'],
  ['a positional variable in a named template', template([body('Hi {{1}}.')], { body: ['x'] }, { parameterFormat: 'named' }), 'TEMPLATE_PARAMETER_FORMAT_MISMATCH', 'body.components[0].text'],
  ['a gap in the numbering', template([body('Hi {{1}}, see {{3}}.')], { body: ['a', 'b', 'c'] }), 'TEMPLATE_POSITIONAL_SEQUENCE', 'body.components[0].text'],
  ['numbers out of order', template([body('Hi {{2}}, see {{1}}.')], { body: ['a', 'b'] }), 'TEMPLATE_POSITIONAL_SEQUENCE', 'body.components[0].text'],
  ['adjacent variables', template([body('Code {{1}}{{2}} now.')], { body: ['a', 'b'] }), 'TEMPLATE_VARIABLES_ADJACENT', 'body.components[0].text'],
  ['two variables in a header', template([{ type: 'HEADER', format: 'TEXT', text: '{{1}} and {{2}}' }, body('x')], { header: ['a', 'b'] }), 'TEMPLATE_HEADER_VARIABLES', 'body.components[0].text'],
  ['a variable in a footer', template([body('x'), { type: 'FOOTER', text: 'Bye {{1}}' }]), 'TEMPLATE_VARIABLE_NOT_ALLOWED', 'body.components[1].text'],
  ['a variable in a button label', template([body('x'), buttons(quick('Hi {{1}}'))]), 'TEMPLATE_VARIABLE_NOT_ALLOWED', 'body.components[1].buttons[0].text'],
  ['a URL variable in the middle', template([body('x'), buttons(url('https://x.example/{{1}}/track'))], { buttons: { 0: 'a' } }), 'TEMPLATE_URL_VARIABLE', 'body.components[1].buttons[0].url'],
  ['a URL variable other than {{1}}', template([body('x'), buttons(url('https://x.example/{{2}}'))], { buttons: { 0: 'a' } }), 'TEMPLATE_URL_VARIABLE', 'body.components[1].buttons[0].url'],
  ['three URL buttons', template([body('x'), buttons(url(), url(), url())]), 'TEMPLATE_BUTTON_LIMIT', 'body.components[1].buttons'],
  ['two phone buttons', template([body('x'), buttons(phone(), phone())]), 'TEMPLATE_BUTTON_LIMIT', 'body.components[1].buttons'],
  ['two copy-code buttons', template([body('x'), buttons(copyCode(), copyCode())]), 'TEMPLATE_BUTTON_LIMIT', 'body.components[1].buttons'],
  ['quick replies split by a URL button', template([body('x'), buttons(quick('A'), url(), quick('B'))]), 'TEMPLATE_QUICK_REPLIES_NOT_GROUPED', 'body.components[1].buttons'],
  ['a location header in an authentication template', template([{ type: 'HEADER', format: 'LOCATION' }, body('{{1}} is your code.')], { body: ['1234'] }, { category: 'AUTHENTICATION' }), 'TEMPLATE_LOCATION_HEADER_CATEGORY', 'body.components[0].format'],
  ['a media header in an authentication template', template([{ type: 'HEADER', format: 'DOCUMENT', mediaHandle: 'h' }, body('Code {{1}}.')], { body: ['1234'] }, { category: 'AUTHENTICATION' }), 'TEMPLATE_AUTH_MEDIA', 'body.components[0].format'],
  ['a URL button in an authentication template', template([body('Code {{1}}.'), buttons(url())], { body: ['1234'] }, { category: 'AUTHENTICATION' }), 'TEMPLATE_AUTH_URL', 'body.components[1].buttons[0]'],
  ['a link in an authentication body', template([body('Code {{1}}, see https://x.example')], { body: ['1234'] }, { category: 'AUTHENTICATION' }), 'TEMPLATE_AUTH_URL', 'body.components[0].text'],
  ['an emoji in an authentication body', template([body('Code {{1}} 🔐')], { body: ['1234'] }, { category: 'AUTHENTICATION' }), 'TEMPLATE_AUTH_EMOJI', 'body.components[0].text'],
  ['an authentication parameter of 16 characters', template([body('Code {{1}}.')], { body: ['1234567890123456'] }, { category: 'AUTHENTICATION' }), 'TEMPLATE_AUTH_PARAMETER_LENGTH', 'body.variables.body[0]'],
  ['a variable without an example', template([body('Hi {{1}}, order {{2}}.')], { body: ['Jessica'] }), 'TEMPLATE_EXAMPLE_MISSING', 'body.variables.body[1]'],
  ['a URL variable without an example', template([body('x'), buttons(url('https://x.example/{{1}}'))]), 'TEMPLATE_EXAMPLE_MISSING', 'body.variables.buttons[0]'],
  ['a named variable without an example', template([body('Hi {{first_name}}.')], { body: {} }, { parameterFormat: 'named' }), 'TEMPLATE_EXAMPLE_MISSING', 'body.variables.body.first_name'],
  ['an example for no variable', template([body('Hi {{1}}.')], { body: ['a', 'b'] }), 'TEMPLATE_EXAMPLE_UNUSED', 'body.variables.body[1]'],
  ['header examples without a text header', template([body('Hi.')], { header: ['x'] }), 'TEMPLATE_EXAMPLE_UNUSED', 'body.variables.header[0]'],
  ['a list of examples in a named template', template([body('Hi {{name}}.')], { body: ['x'] }, { parameterFormat: 'named' }), 'TEMPLATE_EXAMPLE_FORMAT', 'body.variables.body'],
];

describe('plugin template: validation against WhatsApp\'s rules, and strict previews', () => {
  let h: TemplatesHarness;
  let t: TestServer;
  before(async () => { h = await startTemplates('tpl_rules'); t = h.t; });
  after(async () => { await h.stop(); });

  describe('valid templates are created', () => {
    for (const [what, input] of VALID) {
      it(what, async () => {
        const res = await t.request<Json>('post', '/api/templates', { as: 'manager', body: input });
        assert.equal(res.status, 201, res.text);
        assert.equal(res.body.status, 'DRAFT');
        assert.equal(res.body.version, 1);
      });
    }
  });

  describe('shapes JSON Schema refuses: 400 VALIDATION_FAILED with the path', () => {
    for (const [what, input, path] of SCHEMA_ERRORS) {
      it(what, async () => {
        const res = await t.request<ErrorBody>('post', '/api/templates', { as: 'manager', body: input });
        assert.equal(res.status, 400, res.text);
        assert.equal(res.body.error.code, 'VALIDATION_FAILED');
        const paths = (res.body.error.details as Array<{ path: string }>).map((d) => d.path);
        assert.ok(paths.includes(path), `expected ${path} among ${paths.join(', ')}`);
      });
    }
  });

  describe('WhatsApp rules: 422 TEMPLATE_INVALID with a stable code and the path', () => {
    for (const [what, input, code, path] of RULE_ERRORS) {
      it(`${what}: ${code}`, async () => {
        const res = await t.request<ErrorBody>('post', '/api/templates', { as: 'manager', body: input });
        assert.equal(res.status, 422, res.text);
        assert.equal(res.body.error.code, 'TEMPLATE_INVALID');
        const issues = (res.body.error.details as { issues: Array<{ code: string; path: string }> }).issues;
        assert.ok(issues.some((i) => i.code === code && i.path === path), `expected ${code} at ${path}, got ${JSON.stringify(issues)}`);
      });
    }

    it('lists every broken rule at once, and stores nothing', async () => {
      const input = template([body('Hi {{2}}{{1}}'), { type: 'FOOTER', text: '{{1}}' }, buttons(quick('A'), url(), quick('B'))], {});
      const res = await t.request<ErrorBody>('post', '/api/templates', { as: 'manager', body: input });
      assert.equal(res.status, 422);
      const codes = (res.body.error.details as { issues: Array<{ code: string }> }).issues.map((i) => i.code).sort();
      assert.deepEqual(codes, ['TEMPLATE_EXAMPLE_MISSING', 'TEMPLATE_EXAMPLE_MISSING', 'TEMPLATE_POSITIONAL_SEQUENCE', 'TEMPLATE_QUICK_REPLIES_NOT_GROUPED', 'TEMPLATE_VARIABLES_ADJACENT', 'TEMPLATE_VARIABLE_NOT_ALLOWED']);
      const list = await t.request<{ items: Json[] }>('get', `/api/templates?name=${input.name as string}`, { as: 'viewer' });
      assert.equal(list.body.items.length, 0);
    });

    it('checks a new version (PUT) by the same rules', async () => {
      const created = await t.request<{ id: string }>('post', '/api/templates', { as: 'manager', body: template([body('Hello.')]) });
      const res = await t.request<ErrorBody>('put', `/api/templates/${created.body.id}`, { as: 'manager', body: { category: 'UTILITY', components: [body('Hi {{1}}.')] } });
      assert.equal(res.status, 422);
      assert.deepEqual((res.body.error.details as { issues: Array<{ code: string; path: string }> }).issues.map((i) => [i.code, i.path]), [['TEMPLATE_EXAMPLE_MISSING', 'body.variables.body[0]']]);
    });
  });

  describe('preview: handlebars in strict mode, every missing and extra variable named', () => {
    let orderId: string;
    let namedId: string;
    before(async () => {
      orderId = (await t.request<{ id: string }>('post', '/api/templates', { as: 'manager', body: orderTemplate('preview_order') })).body.id;
      namedId = (await t.request<{ id: string }>('post', '/api/templates', {
        as: 'manager', body: template([body('Hi {{first_name}}, order {{order_id}} is ready.')], { body: { first_name: 'A', order_id: 'B' } }, { parameterFormat: 'named', name: 'preview_named' }),
      })).body.id;
    });

    it('renders header, body, footer and buttons, and gives the send input', async () => {
      const res = await t.request<Json>('post', `/api/templates/${orderId}/preview`, {
        as: 'viewer', body: { variables: { header: ['#77'], body: ['Ada', '#77'], buttons: { 0: '77 b/c' } } },
      });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body.header, { format: 'TEXT', text: 'Order #77' });
      assert.equal(res.body.body, 'Hi Ada, your order #77 has shipped.');
      assert.equal(res.body.footer, 'Reply STOP to opt out');
      assert.deepEqual(res.body.buttons, [{ type: 'URL', text: 'Track', url: 'https://shop.example/track/77%20b%2Fc' }, { type: 'QUICK_REPLY', text: 'Thanks' }]);
      assert.deepEqual(res.body.send, {
        name: 'preview_order', language: 'en_US', variables: ['Ada', '#77'],
        components: [{ type: 'header', parameters: [{ type: 'text', text: '#77' }] }, { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: '77 b/c' }] }],
      });
    });

    it('keeps values verbatim: no HTML escaping, no second expansion of braces', async () => {
      const res = await t.request<{ body: string }>('post', `/api/templates/${orderId}/preview`, {
        as: 'viewer', body: { variables: { header: ['x'], body: ['<b>Ada</b> & {{2}}', '{{constructor}}'], buttons: { 0: 'x' } } },
      });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.body, 'Hi <b>Ada</b> & {{2}}, your order {{constructor}} has shipped.');
    });

    it('names every missing variable (422)', async () => {
      const res = await t.request<{ error: { code: string; message: string; details: { missing: string[]; extra: string[] } } }>('post', `/api/templates/${orderId}/preview`, {
        as: 'viewer', body: { variables: { body: ['Ada'] } },
      });
      assert.equal(res.status, 422);
      assert.equal(res.body.error.code, 'TEMPLATE_VARIABLES_MISMATCH');
      assert.deepEqual(res.body.error.details.missing, ['header {{1}}', 'body {{2}}', 'button 0 {{1}}']);
      assert.deepEqual(res.body.error.details.extra, []);
      assert.match(res.body.error.message, /missing header \{\{1\}\}, body \{\{2\}\}, button 0 \{\{1\}\}/);
    });

    it('names every extra variable, alongside missing ones (422)', async () => {
      const res = await t.request<{ error: { code: string; details: { missing: string[]; extra: string[]; issues: Array<{ code: string; path: string }> } } }>('post', `/api/templates/${namedId}/preview`, {
        as: 'viewer', body: { variables: { body: { first_name: 'Ada', order: '1', coupon: 'X' } } },
      });
      assert.equal(res.status, 422);
      assert.deepEqual(res.body.error.details.missing, ['body {{order_id}}']);
      assert.deepEqual(res.body.error.details.extra, ['body {{order}}', 'body {{coupon}}']);
      assert.deepEqual(res.body.error.details.issues.map((i) => [i.code, i.path]), [
        ['TEMPLATE_VARIABLE_MISSING', 'body.variables.body.order_id'], ['TEMPLATE_VARIABLE_EXTRA', 'body.variables.body.order'], ['TEMPLATE_VARIABLE_EXTRA', 'body.variables.body.coupon'],
      ]);
    });

    it('refuses values in the wrong form for the template (422)', async () => {
      const res = await t.request<{ error: { code: string } }>('post', `/api/templates/${namedId}/preview`, { as: 'viewer', body: { variables: { body: ['Ada', '1'] } } });
      assert.equal(res.status, 422);
      assert.equal(res.body.error.code, 'TEMPLATE_VARIABLES_MISMATCH');
    });

    it('refuses values for a template without variables (422) and renders it with none', async () => {
      const id = (await t.request<{ id: string }>('post', '/api/templates', { as: 'manager', body: template([body('Plain text.')]) })).body.id;
      const extra = await t.request<{ error: { details: { extra: string[] } } }>('post', `/api/templates/${id}/preview`, { as: 'viewer', body: { variables: { body: ['x'] } } });
      assert.equal(extra.status, 422);
      assert.deepEqual(extra.body.error.details.extra, ['body {{1}}']);
      const plain = await t.request<{ body: string }>('post', `/api/templates/${id}/preview`, { as: 'viewer', body: {} });
      assert.equal(plain.status, 200, plain.text);
      assert.equal(plain.body.body, 'Plain text.');
    });

    it('renders an earlier version on request', async () => {
      const updated = await t.request<{ version: number }>('put', `/api/templates/${namedId}`, {
        as: 'manager', body: { category: 'UTILITY', parameterFormat: 'named', components: [body('Hello {{first_name}}!')], variables: { body: { first_name: 'A' } } },
      });
      assert.equal(updated.body.version, 2);
      const latest = await t.request<{ body: string; version: number }>('post', `/api/templates/${namedId}/preview`, { as: 'viewer', body: { variables: { body: { first_name: 'Ada' } } } });
      assert.deepEqual([latest.body.body, latest.body.version], ['Hello Ada!', 2]);
      const first = await t.request<{ body: string }>('post', `/api/templates/${namedId}/preview`, { as: 'viewer', body: { version: 1, variables: { body: { first_name: 'Ada', order_id: '7' } } } });
      assert.equal(first.body.body, 'Hi Ada, order 7 is ready.');
      const missing = await t.request<{ error: { code: string } }>('post', `/api/templates/${namedId}/preview`, { as: 'viewer', body: { version: 9, variables: {} } });
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.code, 'TEMPLATE_VERSION_NOT_FOUND');
    });
  });
});
