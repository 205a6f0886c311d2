/**
 * Erasure of a phone number's personal data (GDPR art. 17). Removed: the contact documents, the
 * messages to and from the number and their lookup keys, the workflow events and executions that
 * mention it (the configured `erasure.locations`), and every consent change and state. Kept: one erasure record holding an HMAC of the number
 * under a server-side key, the time, the actor and the counts removed — enough to prove the
 * request was honoured and to recognise a repeated request, never enough to recover the number.
 */
import type { Model } from 'mongoose';
import { HttpError, inject, injectable, MongoConnection, Realtime } from '../../../core/index.js';
import { ConsentConfigToken, type ConsentConfig } from '../config.js';
import { ErasureRecordModel, type ErasureRecord } from '../models/consent.js';
import { pseudonym } from '../phone.js';
import { ConsentLedger } from './consent-ledger.js';

export interface ErasureResult { subject: string; at: string; removed: Record<string, number> }

@injectable()
export class Erasure {
  constructor(
    @inject(ConsentConfigToken) private readonly config: ConsentConfig,
    @inject(MongoConnection) private readonly mongo: MongoConnection,
    @inject(ConsentLedger) private readonly ledger: ConsentLedger,
    @inject(ErasureRecordModel.token) private readonly records: Model<ErasureRecord>,
    @inject(Realtime) private readonly realtime: Realtime,
  ) {}

  async erase(phone: string, actor: string): Promise<ErasureResult> {
    const key = this.config.erasure.key;
    if (!key) throw new HttpError(503, 'CONSENT_ERASURE_KEY_MISSING', 'Set CONSENT_ERASURE_KEY: erasure keeps a keyed hash of the number and needs the key');
    const removed: Record<string, number> = {};
    for (const location of this.config.erasure.locations) {
      const model = this.mongo.connection.models[location.model];
      if (!model) continue; // the plugin holding it is not loaded: nothing of it to erase
      // In JSON text (engine events and executions) the number must stand alone, not inside a longer one.
      const filter = { [location.field]: location.match === 'json' ? { $regex: `(^|[^0-9])${phone}([^0-9]|$)` } : `${location.prefix ?? ''}${phone}` };
      const ids = location.dependents?.length ? (await model.find(filter, { _id: 1 }).lean<Array<{ _id: unknown }>>()).map((d) => String(d._id)) : [];
      for (const dependent of location.dependents ?? []) {
        const child = this.mongo.connection.models[dependent.model];
        if (child && ids.length) removed[dependent.model] = (removed[dependent.model] ?? 0) + (await child.deleteMany({ [dependent.field]: { $in: ids } })).deletedCount;
      }
      removed[location.model] = (removed[location.model] ?? 0) + (await model.deleteMany(filter)).deletedCount;
    }
    Object.assign(removed, await this.ledger.erase(phone));
    const subject = pseudonym(phone, key);
    const at = new Date();
    await this.records.create({ _id: `${subject}:${at.getTime()}`, subject, at, actor, removed });
    this.realtime.publish('consent', 'consent.erased', { subject, at: at.toISOString() });
    return { subject, at: at.toISOString(), removed };
  }
}
