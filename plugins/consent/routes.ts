import { inject, injectable, type ApiRequest, type RouteController, type RouteDefinition } from '../../core/index.js';
import { CONSENT_SOURCES, CONSENT_STATES, type ConsentEvidence, type ConsentSource, type ConsentState } from './models/consent.js';
import { phoneKey, phoneSchema } from './phone.js';
import { changeViewSchema, consentViewSchema, evidenceSchema } from './schemas.js';
import { ComplianceCheck } from './services/compliance-check.js';
import { ConsentLedger } from './services/consent-ledger.js';
import { Erasure } from './services/erasure.js';

const phoneParams = { type: 'object', additionalProperties: false, required: ['phone'], properties: { phone: phoneSchema } } as const;
const page = { limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 }, cursor: { type: 'string', minLength: 1, maxLength: 64 } } as const;
const changeBody = {
  type: 'object', additionalProperties: false, required: ['idempotencyKey'],
  properties: {
    source: { type: 'string', enum: CONSENT_SOURCES, default: 'api' },
    evidence: evidenceSchema,
    at: { type: 'string', format: 'date-time', description: 'When the contact gave or withdrew consent; now when omitted' },
    idempotencyKey: { type: 'string', minLength: 8, maxLength: 128 },
  },
} as const;
const optOutBody = {
  ...changeBody,
  properties: {
    ...changeBody.properties,
    block: {
      type: 'object', additionalProperties: false, required: ['reason'], description: 'Also block every message (spam report, abuse) for `days`',
      properties: { reason: { type: 'string', minLength: 1, maxLength: 500 }, days: { type: 'integer', minimum: 1, maximum: 3650 } },
    },
  },
} as const;
const changeResponse = {
  type: 'object', required: ['consent', 'change', 'recorded'],
  properties: { consent: consentViewSchema, change: changeViewSchema, recorded: { type: 'boolean' } },
} as const;

interface ChangeBody { source: ConsentSource; evidence?: ConsentEvidence; at?: string; idempotencyKey: string; block?: { reason: string; days?: number } }

/** The Compliance routes of API.md: consent state, proof, changes, the combined check and erasure. */
@injectable()
export class ComplianceRoutes implements RouteController {
  constructor(
    @inject(ConsentLedger) private readonly ledger: ConsentLedger,
    @inject(ComplianceCheck) private readonly checker: ComplianceCheck,
    @inject(Erasure) private readonly erasure: Erasure,
  ) {}

  routes(): RouteDefinition[] {
    const change = (state: 'opted_in' | 'opted_out') => async (req: ApiRequest) => {
      const phone = phoneKey(req.params.phone as string);
      const body = req.body as ChangeBody;
      const actor = req.principal?.id ?? 'anonymous';
      const result = await this.ledger.record({
        phone, state, source: body.source, idempotencyKey: `api:${body.idempotencyKey}`, evidence: { actor, ...body.evidence }, ...(body.at ? { at: new Date(body.at) } : {}),
      });
      if (body.block && result.recorded) result.consent = await this.ledger.block(phone, { reason: body.block.reason, by: actor, ...(body.block.days ? { days: body.block.days } : {}) });
      return { status: result.recorded ? 201 : 200, body: result };
    };
    return [
      {
        method: 'get', path: '/api/consent', summary: 'List contacts by consent state', tags: ['compliance'], permission: 'consent:read',
        query: { type: 'object', additionalProperties: false, properties: { state: { type: 'string', enum: CONSENT_STATES }, ...page } },
        responses: { 200: { description: 'A page of contacts, by phone', schema: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: consentViewSchema }, nextCursor: { type: 'string' } } } } },
        handler: async (req) => {
          const query = req.query as { state?: ConsentState; limit: number; cursor?: string };
          const items = await this.ledger.list(query.state, query.limit, query.cursor);
          const last = items.at(-1);
          return { body: { items, ...(items.length === query.limit && last ? { nextCursor: last.phone } : {}) } };
        },
      },
      {
        method: 'get', path: '/api/consent/:phone', summary: 'Current consent state, source and evidence', tags: ['compliance'], permission: 'consent:read',
        params: phoneParams, responses: { 200: { description: 'The state (unknown when nothing was ever recorded)', schema: consentViewSchema } },
        handler: async (req) => ({ body: await this.ledger.get(phoneKey(req.params.phone as string)) }),
      },
      {
        method: 'post', path: '/api/consent/:phone/opt-in', summary: 'Record an opt-in with its evidence', tags: ['compliance'], permission: 'consent:write',
        params: phoneParams, body: changeBody,
        responses: { 201: { description: 'Recorded', schema: changeResponse }, 200: { description: 'Already recorded under this idempotency key', schema: changeResponse } },
        handler: change('opted_in'),
      },
      {
        method: 'post', path: '/api/consent/:phone/opt-out', summary: 'Record an opt-out, optionally blocking the contact', tags: ['compliance'], permission: 'consent:write',
        params: phoneParams, body: optOutBody,
        responses: { 201: { description: 'Recorded', schema: changeResponse }, 200: { description: 'Already recorded under this idempotency key', schema: changeResponse } },
        handler: change('opted_out'),
      },
      {
        method: 'get', path: '/api/consent/:phone/history', summary: 'Every consent change, oldest first: the proof of consent', tags: ['compliance'], permission: 'consent:read',
        params: phoneParams, query: { type: 'object', additionalProperties: false, properties: page },
        responses: { 200: { description: 'A page of changes', schema: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: changeViewSchema }, nextCursor: { type: 'string' } } } } },
        handler: async (req) => {
          const query = req.query as { limit: number; cursor?: string };
          const items = await this.ledger.history(phoneKey(req.params.phone as string), query.limit, query.cursor);
          const last = items.at(-1);
          return { body: { items, ...(items.length === query.limit && last ? { nextCursor: last.id } : {}) } };
        },
      },
      {
        method: 'get', path: '/api/compliance/check', summary: 'May we message this phone now, and if not, which rule says no and why', tags: ['compliance'], permission: 'consent:read',
        query: {
          type: 'object', additionalProperties: false, required: ['phone'],
          properties: {
            phone: phoneSchema,
            category: { type: 'string', pattern: '^[a-z_]+$', default: 'marketing', description: 'marketing, utility, authentication, or service (free-form text)' },
            from: { type: 'string', pattern: '^\\d+$', description: 'Sender phone number id' },
            template: { type: 'string', pattern: '^[a-z0-9_]{1,512}$', description: 'A template to send: its approval is checked too' },
            language: { type: 'string', pattern: '^[a-z]{2,3}(_[A-Za-z]{2,4})?$', default: 'en', description: 'The template\'s language code' },
          },
        },
        responses: { 200: { description: 'The combined decision and each policy\'s', schema: { type: 'object', required: ['phone', 'allowed', 'decision', 'decidedBy', 'reason', 'decisions'] } } },
        handler: async (req) => {
          const query = req.query as { phone: string; category: string; from?: string; template?: string; language: string };
          const template = query.template ? { name: query.template, language: query.language } : undefined;
          return { body: await this.checker.check(phoneKey(query.phone), query.category, query.from, template) };
        },
      },
      {
        method: 'delete', path: '/api/compliance/contacts/:phone', summary: 'Erase a phone number\'s personal data; a keyed hash is kept as the trace', tags: ['compliance'], permission: 'compliance:erase',
        params: phoneParams,
        responses: { 200: { description: 'Erased', schema: { type: 'object', required: ['subject', 'at', 'removed'], properties: { subject: { type: 'string' }, at: { type: 'string' }, removed: { type: 'object' } } } } },
        handler: async (req) => ({ body: await this.erasure.erase(phoneKey(req.params.phone as string), req.principal?.id ?? 'anonymous') }),
      },
    ];
  }
}
