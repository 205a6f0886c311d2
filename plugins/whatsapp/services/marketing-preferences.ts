/**
 * Marketing stop/resume signals from Meta itself — the `user_preferences` webhook and send error
 * 131050 — stored on the contact and handed on as `whatsapp.preferences@1` for the compliance
 * plugin (reference §5).
 */
import { inject, injectable, Realtime, WorkflowEventsToken, type WorkflowEvents } from '../../../core/index.js';
import { TRIGGER_TYPES, type PreferencesEvent } from '../events.js';
import { ContactDirectory } from './contact-directory.js';

@injectable()
export class MarketingPreferences {
  constructor(
    @inject(ContactDirectory) private readonly contacts: ContactDirectory,
    @inject(WorkflowEventsToken) private readonly events: WorkflowEvents,
    @inject(Realtime) private readonly realtime: Realtime,
  ) {}

  /** Idempotent: the event's sourceId is derived from what was signalled and when. */
  async record(signal: { contactId: string; waId?: string; userId?: string; phoneNumberId?: string; value: 'stop' | 'resume'; at: Date; source: PreferencesEvent['source']; messageId?: string; category?: string }): Promise<void> {
    await this.contacts.setMarketing(signal.contactId, signal.value === 'stop' ? 'stopped' : 'resumed', signal.at, signal.source);
    const payload: PreferencesEvent = {
      contactId: signal.contactId, category: signal.category ?? 'marketing_messages', value: signal.value, source: signal.source, timestamp: signal.at.toISOString(),
      ...(signal.waId ? { waId: signal.waId } : {}), ...(signal.userId ? { userId: signal.userId } : {}),
      ...(signal.phoneNumberId ? { phoneNumberId: signal.phoneNumberId } : {}), ...(signal.messageId ? { messageId: signal.messageId } : {}),
    };
    this.realtime.publish('messages', 'contact.preferences', payload);
    const sourceId = signal.source === 'send_error_131050' ? `131050:${signal.messageId}` : `pref:${signal.contactId}:${signal.value}:${signal.at.getTime()}`;
    await this.events.submit({ type: TRIGGER_TYPES.preferences, sourceId, payload, occurredAt: signal.at });
  }
}
