import type { FromSchema } from 'json-schema-to-ts';

const keywordList = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 40 } } as const;

/** Settings of the consent plugin. The erasure key is a secret and comes from the environment only. */
export const consentConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['keywords', 'match', 'categories', 'block', 'erasure'],
  properties: {
    keywords: {
      type: 'object', additionalProperties: false, required: ['optOut', 'optIn', 'help'], default: {},
      description: 'Keyword lists by language code; every language is active (a customer may answer in any)',
      properties: {
        optOut: {
          type: 'object', additionalProperties: keywordList,
          default: {
            en: ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'OPTOUT', 'OPT-OUT', 'OPT OUT', 'REVOKE', 'REMOVE'],
            fr: ['ARRET', 'ARRÊT', 'STOP', 'DESABONNER', 'DÉSABONNER'],
            es: ['BAJA', 'ALTO', 'PARAR', 'CANCELAR'],
            de: ['STOPP', 'ABMELDEN', 'ENDE'],
            pt: ['PARAR', 'SAIR', 'CANCELAR'],
            it: ['BASTA', 'ANNULLA', 'DISISCRIVI'],
          },
        },
        optIn: {
          type: 'object', additionalProperties: keywordList,
          default: { en: ['START', 'UNSTOP', 'YES', 'SUBSCRIBE', 'OPTIN', 'OPT-IN'], fr: ['OUI', 'DEMARRER', 'DÉMARRER'], es: ['SI', 'SÍ', 'ALTA'], de: ['JA', 'ANMELDEN'] },
        },
        help: { type: 'object', additionalProperties: keywordList, default: { en: ['HELP', 'INFO'], fr: ['AIDE'], es: ['AYUDA'], de: ['HILFE'] } },
      },
    },
    match: {
      type: 'string', enum: ['whole', 'first-word'], default: 'whole',
      description: 'whole: the message is the keyword (after trimming case, spaces, punctuation); first-word: the first word is',
    },
    categories: {
      type: 'object', additionalProperties: { type: 'string', enum: ['opted_in', 'not_opted_out', 'any'] },
      default: { marketing: 'opted_in', utility: 'not_opted_out', authentication: 'any', service: 'not_opted_out' },
      description: 'Consent each message category needs (consent.required@1)',
    },
    block: {
      type: 'object', additionalProperties: false, required: ['days', 'autoAfterOptOuts', 'autoWindowDays'], default: {},
      properties: {
        days: { type: 'integer', minimum: 1, maximum: 3650, default: 30, description: 'How long a block lasts' },
        autoAfterOptOuts: { type: 'integer', minimum: 0, default: 3, description: 'Opt-outs within autoWindowDays that block the contact (0: never)' },
        autoWindowDays: { type: 'integer', minimum: 1, default: 30 },
      },
    },
    erasure: {
      type: 'object', additionalProperties: false, required: ['locations'], default: {},
      properties: {
        key: { type: 'string', minLength: 16, 'x-secret': true, description: 'Key of the pseudonymous hash kept after erasure (CONSENT_ERASURE_KEY)' },
        locations: {
          type: 'array', description: 'Collections of other plugins and of the engine holding the phone number: matching documents are deleted',
          default: [
            { model: 'WhatsappContact', field: 'waId' },
            // The alias `wa:<number>` that leads to a contact first known by its user id.
            { model: 'WhatsappContact', field: '_id', prefix: 'wa:' },
            { model: 'WhatsappMessage', field: 'phone', dependents: [{ model: 'WhatsappMessageKey', field: 'messageId' }] },
            { model: 'WhatsappWebhookUpdate', field: 'payload.message.from' },
            { model: 'WhatsappWebhookUpdate', field: 'payload.contact.wa_id' },
            { model: 'WhatsappWebhookUpdate', field: 'payload.status.recipient_id' },
            { model: 'WorkflowEvent', field: 'payloadJson', match: 'json' },
            { model: 'Execution', field: 'triggerJson', match: 'json' },
            { model: 'Execution', field: 'stepsJson', match: 'json' },
          ],
          items: {
            type: 'object', additionalProperties: false, required: ['model', 'field'],
            properties: {
              model: { type: 'string', minLength: 1 },
              field: { type: 'string', minLength: 1 },
              match: { type: 'string', enum: ['equals', 'json'], default: 'equals', description: 'equals: the field is the number (digits); json: a JSON text field holds it anywhere' },
              prefix: { type: 'string', description: 'With equals: the field is this prefix followed by the number (e.g. wa:)' },
              dependents: {
                type: 'array', description: 'Documents that point to a deleted document by its id',
                items: { type: 'object', additionalProperties: false, required: ['model', 'field'], properties: { model: { type: 'string' }, field: { type: 'string' } } },
              },
            },
          },
        },
      },
    },
  },
} as const;

export type ConsentConfig = FromSchema<typeof consentConfigSchema>;
export const ConsentConfigToken = Symbol.for('consent.Config');
export const consentEnvironment = { CONSENT_ERASURE_KEY: 'erasure.key' } as const;
