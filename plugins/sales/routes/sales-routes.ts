import { inject, injectable, commonSchemas, conflict, HttpError, type RouteController, type RouteDefinition } from '../../../core/index.js';
import { canManage, ownAgentScope, Permissions } from '../access.js';
import { recordSaleSchema, saleSchema, updateSaleSchema, type RecordSaleRequest, type UpdateSaleRequest } from '../schemas.js';
import { SalesLedger, toSaleView } from '../services/sales-ledger.js';
import { caller, saleListFilterProperties, scopedFilter, type SaleFilterQuery } from './query.js';

const idParams = { type: 'object', additionalProperties: false, required: ['id'], properties: { id: commonSchemas.objectId } } as const;
const errors = { 400: { description: 'Bad input', schema: commonSchemas.errorEnvelope }, 403: { description: 'Not allowed', schema: commonSchemas.errorEnvelope } };

@injectable()
export class SalesRoutes implements RouteController {
  constructor(@inject(SalesLedger) private readonly ledger: SalesLedger) {}

  routes(): RouteDefinition[] {
    return [
      {
        method: 'post', path: '/api/sales', summary: 'Record a sale (amount in minor units, ISO 4217 currency, attribution)', permission: Permissions.record, tags: ['sales'],
        body: recordSaleSchema,
        responses: {
          201: { description: 'Recorded', schema: saleSchema },
          200: { description: 'Already recorded with this idempotency key: the first sale', schema: saleSchema },
          409: { description: 'The idempotency key was used for another agent\'s sale', schema: commonSchemas.errorEnvelope },
          422: { description: 'Unknown currency, wrong minor units or phone', schema: commonSchemas.errorEnvelope },
          ...errors,
        },
        handler: async (req) => {
          const principal = caller(req.principal);
          const body = req.body as RecordSaleRequest;
          const agentId = body.agentId ?? principal.id;
          if (agentId !== principal.id && !canManage(principal)) throw new HttpError(403, 'SALES_AGENT_FORBIDDEN', 'Only sales managers record sales for other agents');
          const { sale, created } = await this.ledger.record({
            ...body, agentId, soldAt: body.soldAt ? new Date(body.soldAt) : undefined,
            // Callers' keys live apart from workflow steps' (`<execution>:<step>`), so neither can take the other's.
            idempotencyKey: body.idempotencyKey ? `api:${body.idempotencyKey}` : undefined,
          }, principal.id);
          // A repeat returns the first sale, unless it is someone else's that the caller may not see.
          if (!created && ownAgentScope(principal) !== null && sale.agentId !== principal.id) throw conflict('This idempotency key was used for another sale');
          return { status: created ? 201 : 200, body: toSaleView(sale) };
        },
      },
      {
        method: 'get', path: '/api/sales', summary: 'List sales, newest first (agents: their own)', permission: Permissions.read, tags: ['sales'],
        query: {
          type: 'object', additionalProperties: false,
          properties: {
            ...saleListFilterProperties,
            limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
            cursor: commonSchemas.objectId,
          },
        },
        responses: {
          200: { description: 'A page of sales', schema: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: saleSchema }, nextCursor: { type: 'string' } } } },
          ...errors,
        },
        handler: async (req) => {
          const query = req.query as unknown as SaleFilterQuery & { limit: number; cursor?: string };
          const page = await this.ledger.list(scopedFilter(query, req.principal), query.limit, query.cursor);
          return { body: { items: page.items.map(toSaleView), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) } };
        },
      },
      {
        method: 'get', path: '/api/sales/:id', summary: 'One sale', permission: Permissions.read, tags: ['sales'], params: idParams,
        responses: { 200: { description: 'The sale', schema: saleSchema }, 404: { description: 'No such sale (or another agent\'s)', schema: commonSchemas.errorEnvelope } },
        handler: async (req) => ({ body: toSaleView(await this.ledger.get(req.params.id as string, ownAgentScope(caller(req.principal)))) }),
      },
      {
        method: 'put', path: '/api/sales/:id', summary: 'Amend a recorded sale (agents: their own)', permission: Permissions.record, tags: ['sales'],
        params: idParams, body: updateSaleSchema,
        responses: {
          200: { description: 'The amended sale', schema: saleSchema },
          404: { description: 'No such sale (or another agent\'s)', schema: commonSchemas.errorEnvelope },
          409: { description: 'Voided, or amended by someone else meanwhile', schema: commonSchemas.errorEnvelope },
          422: { description: 'Unknown currency, wrong minor units or phone', schema: commonSchemas.errorEnvelope },
          ...errors,
        },
        handler: async (req) => {
          const principal = caller(req.principal);
          const body = req.body as UpdateSaleRequest;
          if (body.agentId !== undefined && body.agentId !== principal.id && !canManage(principal)) {
            throw new HttpError(403, 'SALES_AGENT_FORBIDDEN', 'Only sales managers give a sale to another agent');
          }
          const { soldAt, ...rest } = body;
          const sale = await this.ledger.update(req.params.id as string, { ...rest, ...(soldAt ? { soldAt: new Date(soldAt) } : {}) }, ownAgentScope(principal));
          return { body: toSaleView(sale) };
        },
      },
      {
        method: 'delete', path: '/api/sales/:id', summary: 'Void a sale: it is kept, marked voided, and stops counting', permission: Permissions.void, tags: ['sales'],
        params: idParams,
        query: { type: 'object', additionalProperties: false, properties: { reason: { type: 'string', minLength: 1, maxLength: 500 } } },
        responses: { 200: { description: 'The voided sale (voiding twice changes nothing)', schema: saleSchema }, 404: { description: 'No such sale', schema: commonSchemas.errorEnvelope }, ...errors },
        handler: async (req) => {
          const sale = await this.ledger.void(req.params.id as string, caller(req.principal).id, (req.query as { reason?: string }).reason);
          return { body: toSaleView(sale) };
        },
      },
    ];
  }
}
