import { inject, injectable, commonSchemas, type RouteController, type RouteDefinition } from '../../../core/index.js';
import { ownAgentScope, Permissions } from '../access.js';
import { leadSchema, phoneSchema, putLeadSchema, type PutLeadRequest } from '../schemas.js';
import { Leads, toLeadView } from '../services/leads.js';
import { caller } from './query.js';

const phoneParams = { type: 'object', additionalProperties: false, required: ['phone'], properties: { phone: phoneSchema } } as const;

/**
 * The two lead routes sales attribution needs: the lead's owner is the agent a workflow's
 * `sales.record@1` credits when it names none. Not in the route map; kept minimal.
 */
@injectable()
export class LeadRoutes implements RouteController {
  constructor(@inject(Leads) private readonly leads: Leads) {}

  routes(): RouteDefinition[] {
    return [
      {
        method: 'get', path: '/api/sales/leads/:phone', summary: 'A contact as a lead: owner, status, tags (agents: theirs or unowned)', permission: Permissions.read, tags: ['sales'],
        params: phoneParams,
        responses: { 200: { description: 'The lead', schema: leadSchema }, 404: { description: 'No such lead (or another agent\'s)', schema: commonSchemas.errorEnvelope } },
        handler: async (req) => ({ body: toLeadView(await this.leads.get(req.params.phone as string, ownAgentScope(caller(req.principal)))) }),
      },
      {
        method: 'put', path: '/api/sales/leads/:phone', summary: 'Create or update a lead; agents take unowned leads, managers assign any', permission: Permissions.record, tags: ['sales'],
        params: phoneParams, body: putLeadSchema,
        responses: {
          201: { description: 'Created', schema: leadSchema },
          200: { description: 'Updated', schema: leadSchema },
          403: { description: 'An agent giving a lead to someone else', schema: commonSchemas.errorEnvelope },
          404: { description: 'Another agent\'s lead', schema: commonSchemas.errorEnvelope },
          422: { description: 'Not a phone number', schema: commonSchemas.errorEnvelope },
        },
        handler: async (req) => {
          const { lead, created } = await this.leads.put(req.params.phone as string, req.body as PutLeadRequest, ownAgentScope(caller(req.principal)));
          return { status: created ? 201 : 200, body: toLeadView(lead) };
        },
      },
    ];
  }
}
