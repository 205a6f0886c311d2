/**
 * Contacts as sales leads. They live here, keyed by E.164 digits, rather than on WhatsApp's
 * contact: a lead is a sales fact (owner, stage, tags) that exists whether or not the person
 * ever wrote on WhatsApp, and keeping it here keeps the webhook's hot contact document free of
 * sales writes. The shared key joins the two when both exist.
 */
import type { Model } from 'mongoose';
import { inject, injectable, EngineClock, HttpError, notFound } from '../../../core/index.js';
import { LeadModel, type Lead } from '../models/lead.js';
import type { LeadView, PutLeadRequest } from '../schemas.js';
import { phoneDigits } from './sales-ledger.js';

export function toLeadView(lead: Lead): LeadView {
  return {
    phone: lead._id,
    ...(lead.name !== undefined ? { name: lead.name } : {}),
    tags: [...(lead.tags ?? [])],
    ...(lead.ownerAgentId ? { ownerAgentId: lead.ownerAgentId } : {}),
    status: lead.status,
    createdAt: lead.createdAt.toISOString(),
    updatedAt: lead.updatedAt.toISOString(),
  };
}

@injectable()
export class Leads {
  constructor(@inject(LeadModel.token) private readonly leads: Model<Lead>, @inject(EngineClock) private readonly clock: EngineClock) {}

  /** The lead, or null. */
  async find(phone: string): Promise<Lead | null> {
    return this.leads.findById(phoneDigits(phone)).lean<Lead>();
  }

  /** The lead if `ownAgent` (null: anyone) may see it: theirs or nobody's. Otherwise 404. */
  async get(phone: string, ownAgent: string | null): Promise<Lead> {
    const lead = await this.find(phone);
    if (!lead || (ownAgent !== null && lead.ownerAgentId && lead.ownerAgentId !== ownAgent)) throw notFound('Lead', phone);
    return lead;
  }

  /**
   * Creates or updates a lead. An agent limited to their own (`ownAgent`) may take an unowned
   * lead and edit theirs, never give one to someone else: 403 SALES_AGENT_FORBIDDEN.
   */
  async put(phone: string, changes: PutLeadRequest, ownAgent: string | null): Promise<{ lead: Lead; created: boolean }> {
    const key = phoneDigits(phone);
    const existing = await this.leads.findById(key).lean<Lead>();
    if (ownAgent !== null) {
      if (existing?.ownerAgentId && existing.ownerAgentId !== ownAgent) throw notFound('Lead', phone);
      if (changes.ownerAgentId !== undefined && changes.ownerAgentId !== ownAgent) {
        throw new HttpError(403, 'SALES_AGENT_FORBIDDEN', 'Only sales managers give leads to other agents');
      }
    }
    const now = this.clock.now();
    const name = changes.name ?? existing?.name;
    // A lead an agent creates is theirs.
    const owner = changes.ownerAgentId ?? existing?.ownerAgentId ?? ownAgent;
    const lead: Lead = {
      _id: key,
      tags: changes.tags ?? existing?.tags ?? [],
      status: changes.status ?? existing?.status ?? 'new',
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
      ...(name !== undefined ? { name } : {}),
      ...(owner ? { ownerAgentId: owner } : {}),
    };
    await this.leads.replaceOne({ _id: key }, lead, { upsert: true });
    return { lead, created: !existing };
  }
}
