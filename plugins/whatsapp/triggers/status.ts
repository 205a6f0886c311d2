import { injectable, type Trigger } from '../../../core/index.js';
import type { PreferencesEvent, StatusEvent, TemplateStatusEvent } from '../events.js';

export const statusTriggerConfigSchema = {
  type: 'object', additionalProperties: false,
  properties: {
    statuses: { type: 'array', items: { type: 'string', enum: ['sent', 'delivered', 'read', 'played', 'failed'] }, minItems: 1 },
    phoneNumberIds: { type: 'array', items: { type: 'string', pattern: '^\\d+$' }, minItems: 1 },
    errorCodes: { type: 'array', items: { type: 'integer' }, minItems: 1, description: 'Only failures with one of these codes' },
  },
} as const;

export const templateStatusTriggerConfigSchema = {
  type: 'object', additionalProperties: false,
  properties: {
    events: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, description: 'APPROVED, REJECTED, PAUSED, …' },
    templateNames: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
  },
} as const;

export const preferencesTriggerConfigSchema = {
  type: 'object', additionalProperties: false,
  properties: { values: { type: 'array', items: { type: 'string', enum: ['stop', 'resume'] }, minItems: 1 } },
} as const;

/** `whatsapp.status@1`: a delivery status of an outbound message. */
@injectable()
export class StatusTrigger implements Trigger<{ statuses?: string[]; phoneNumberIds?: string[]; errorCodes?: number[] }> {
  matches(config: Readonly<{ statuses?: string[]; phoneNumberIds?: string[]; errorCodes?: number[] }>, payload: unknown): boolean {
    const event = payload as StatusEvent;
    if (config.statuses && !config.statuses.includes(event.status)) return false;
    if (config.phoneNumberIds && !config.phoneNumberIds.includes(event.phoneNumberId)) return false;
    return !config.errorCodes || (event.errors ?? []).some((e) => config.errorCodes?.includes(e.code));
  }
}

/** `whatsapp.template-status@1`: Meta approved, rejected, paused… a template. */
@injectable()
export class TemplateStatusTrigger implements Trigger<{ events?: string[]; templateNames?: string[] }> {
  matches(config: Readonly<{ events?: string[]; templateNames?: string[] }>, payload: unknown): boolean {
    const event = payload as TemplateStatusEvent;
    return (!config.events || config.events.includes(event.event)) && (!config.templateNames || config.templateNames.includes(event.templateName));
  }
}

/** `whatsapp.preferences@1`: a user stopped or resumed marketing messages (Meta's own signal). */
@injectable()
export class PreferencesTrigger implements Trigger<{ values?: string[] }> {
  matches(config: Readonly<{ values?: string[] }>, payload: unknown): boolean {
    return !config.values || config.values.includes((payload as PreferencesEvent).value);
  }
}
