import { inject, injectable, HttpError, StepError, type Action, type ActionResult, type RunContext } from '../../../core/index.js';
import { currencySchema, formatMinor, minorUnits } from '../currencies.js';
import type { SaleAttribution } from '../models/sale.js';
import { phoneSchema, amountSchema, saleSchema, type SaleView } from '../schemas.js';
import { Leads } from '../services/leads.js';
import { SalesLedger, toSaleView } from '../services/sales-ledger.js';

export const recordSaleInputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['contactPhone', 'amount', 'currency'],
  properties: {
    contactPhone: phoneSchema,
    amount: amountSchema,
    currency: currencySchema,
    minorUnits: saleSchema.properties.minorUnits,
    agentId: { type: 'string', minLength: 1, maxLength: 128, description: 'Defaults to the owner of the contact\'s lead' },
    attribution: {
      type: 'object', additionalProperties: false,
      properties: { campaignId: { type: 'string', minLength: 1, maxLength: 128 }, templateName: { type: 'string', minLength: 1, maxLength: 512 } },
    },
    notes: { type: 'string', maxLength: 2000 },
    soldAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const recordSaleOutputSchema = saleSchema;

interface RecordSaleInput {
  contactPhone: string;
  amount: number;
  currency: string;
  minorUnits?: number;
  agentId?: string;
  attribution?: Pick<SaleAttribution, 'campaignId' | 'templateName'>;
  notes?: string;
  soldAt?: string;
}

/**
 * `sales.record@1` (the brief's `sale.record`): records a sale attributed to the running
 * workflow and execution. Idempotent: the sale is stored under the step's idempotency key, so
 * a resumed or retried execution finds the sale it recorded before and records no second one.
 */
@injectable()
export class RecordSaleAction implements Action<RecordSaleInput, SaleView> {
  constructor(@inject(SalesLedger) private readonly ledger: SalesLedger, @inject(Leads) private readonly leads: Leads) {}

  async execute(input: RecordSaleInput, ctx: RunContext): Promise<ActionResult<SaleView>> {
    try {
      const agentId = input.agentId ?? (await this.leads.find(input.contactPhone))?.ownerAgentId;
      if (!agentId) throw new StepError('SALES_AGENT_UNKNOWN', 'No agentId given and the contact\'s lead has no owner: say who made the sale');
      const attribution = { ...(input.attribution ?? {}), workflowId: ctx.workflowId, executionId: ctx.executionId };
      if (ctx.simulate) {
        const digits = minorUnits(input.currency) ?? 0;
        const now = new Date().toISOString();
        return {
          output: {
            id: 'simulated', contactPhone: input.contactPhone.replace(/\D/g, ''), amount: input.amount, currency: input.currency, minorUnits: digits,
            amountDecimal: formatMinor(input.amount, digits), agentId, attribution, status: 'recorded', soldAt: input.soldAt ?? now, recordedBy: `workflow:${ctx.workflowId}`,
            revision: 1, createdAt: now, updatedAt: now,
          },
        };
      }
      const { sale } = await this.ledger.record({
        contactPhone: input.contactPhone, amount: input.amount, currency: input.currency, minorUnits: input.minorUnits, agentId, attribution,
        ...(input.notes !== undefined ? { notes: input.notes } : {}),
        ...(input.soldAt ? { soldAt: new Date(input.soldAt) } : {}),
        idempotencyKey: ctx.idempotencyKey,
      }, `workflow:${ctx.workflowId}`);
      return { output: toSaleView(sale) };
    } catch (error) {
      // Bad input (an unknown currency, a phone too short) will not get better with a retry.
      if (error instanceof HttpError) throw new StepError(error.code, error.message, false, error.details);
      throw error;
    }
  }
}
