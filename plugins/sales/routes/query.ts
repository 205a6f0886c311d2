/** Reading the shared sale filters from a query string, with the row-level rule applied. */
import type { FromSchema } from 'json-schema-to-ts';
import { HttpError, type Principal } from '../../../core/index.js';
import { ownAgentScope } from '../access.js';
import { saleFilterProperties } from '../schemas.js';
import type { SaleFilter } from '../services/sales-ledger.js';

/** The filters of the list and the export: the report filters and a sale's status. */
export const saleListFilterProperties = { ...saleFilterProperties, status: { enum: ['recorded', 'voided'] } } as const;

export type SaleFilterQuery = FromSchema<{ type: 'object'; additionalProperties: false; properties: typeof saleListFilterProperties }>;

/**
 * The filter a caller may use: an agent limited to their own sales gets `agentId` pinned to
 * themselves, and 403 SALES_AGENT_FORBIDDEN when they ask for someone else's.
 */
export function scopedFilter(query: SaleFilterQuery, principal: Principal | null): SaleFilter {
  const from = query.from ? new Date(query.from) : undefined;
  const to = query.to ? new Date(query.to) : undefined;
  if (from && to && from >= to) throw new HttpError(400, 'SALES_PERIOD_INVALID', '`from` must be before `to`');
  const ownAgent = principal ? ownAgentScope(principal) : null;
  if (ownAgent !== null && query.agentId !== undefined && query.agentId !== ownAgent) {
    throw new HttpError(403, 'SALES_AGENT_FORBIDDEN', 'Agents see their own sales only');
  }
  const agentId = ownAgent ?? query.agentId;
  return {
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
    ...(agentId ? { agentId } : {}),
    ...(query.campaignId ? { campaignId: query.campaignId } : {}),
    ...(query.templateName ? { templateName: query.templateName } : {}),
    ...(query.workflowId ? { workflowId: query.workflowId } : {}),
    ...(query.currency ? { currency: query.currency } : {}),
    ...(query.contactPhone ? { contactPhone: query.contactPhone } : {}),
    ...(query.status ? { status: query.status } : {}),
  };
}

/** The principal of a route that needs a permission: the mounter has authenticated it. */
export function caller(principal: Principal | null): Principal {
  if (!principal) throw new HttpError(401, 'UNAUTHENTICATED', 'Authenticate first');
  return principal;
}
