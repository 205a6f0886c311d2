/**
 * Graph API error codes mapped to what Flowgate does about them. Retry decisions key on
 * `error.code` (plus the HTTP status only when there is no code), never on titles: Meta says
 * titles will be deprecated and the HTTP status of 130429 differs between sources
 * (reference/whatsapp.md §2, "uncertain" 3). The table is repeated in docs/whatsapp.md.
 */
export type ProviderErrorCategory =
  | 'rate-limit' | 'window-closed' | 'undeliverable' | 'template' | 'auth' | 'opted-out'
  | 'invalid-request' | 'recipient' | 'provider-unavailable' | 'timeout' | 'network' | 'unknown';

export interface ProviderError {
  /** Graph API error code; 0 when the failure happened before an answer (timeout, network). */
  code: number;
  category: ProviderErrorCategory;
  /** True when sending the same message again later may succeed. */
  retryable: boolean;
  /** Why, in one line, for people and for the failed-messages list. */
  reason: string;
  title?: string;
  details?: string;
  httpStatus?: number;
  fbtraceId?: string;
}

interface Rule { category: ProviderErrorCategory; retryable: boolean; reason: string }

/** The StepError code a workflow step fails with, per category (listed in docs/error-codes.md). */
export const STEP_ERROR_CODES: Readonly<Record<ProviderErrorCategory, string>> = {
  'rate-limit': 'WHATSAPP_RATE_LIMITED', 'window-closed': 'WHATSAPP_WINDOW_CLOSED', undeliverable: 'WHATSAPP_UNDELIVERABLE', template: 'WHATSAPP_TEMPLATE_ERROR',
  auth: 'WHATSAPP_AUTH_FAILED', 'opted-out': 'WHATSAPP_OPTED_OUT', 'invalid-request': 'WHATSAPP_INVALID_REQUEST', recipient: 'WHATSAPP_RECIPIENT_UNSUPPORTED',
  'provider-unavailable': 'WHATSAPP_PROVIDER_UNAVAILABLE', timeout: 'WHATSAPP_OUTCOME_UNKNOWN', network: 'WHATSAPP_OUTCOME_UNKNOWN', unknown: 'WHATSAPP_PROVIDER_ERROR',
};

/** Exact codes first; ranges after (see `classifyProviderError`). */
export const PROVIDER_ERROR_TABLE: Readonly<Record<number, Rule>> = {
  0: { category: 'auth', retryable: false, reason: 'Authentication exception: the access token could not be used' },
  3: { category: 'auth', retryable: false, reason: 'The app lacks the capability or permission for this call' },
  10: { category: 'auth', retryable: false, reason: 'Permission denied or removed' },
  190: { category: 'auth', retryable: false, reason: 'Access token expired or invalid: renew WHATSAPP_ACCESS_TOKEN' },
  4: { category: 'rate-limit', retryable: true, reason: 'App-level API call rate limit: retry after a pause' },
  80007: { category: 'rate-limit', retryable: true, reason: 'WhatsApp Business Account rate limit: retry after a pause' },
  130429: { category: 'rate-limit', retryable: true, reason: 'Cloud API throughput reached: retry with backoff' },
  131056: { category: 'rate-limit', retryable: true, reason: 'Too many messages to this recipient from this number (pair rate limit): retry later' },
  131048: { category: 'rate-limit', retryable: true, reason: 'Spam rate limit hit for this number: retry much later' },
  131047: { category: 'window-closed', retryable: false, reason: 'More than 24 hours since the customer last wrote: send a template instead' },
  131026: { category: 'undeliverable', retryable: false, reason: 'Message undeliverable (not a WhatsApp user, old app, or blocked the business)' },
  131049: { category: 'undeliverable', retryable: true, reason: 'Meta chose not to deliver this marketing message now (per-user limit): retry another day' },
  131050: { category: 'opted-out', retryable: false, reason: 'The user stopped marketing messages from this business' },
  131051: { category: 'invalid-request', retryable: false, reason: 'Unsupported message type' },
  131052: { category: 'invalid-request', retryable: false, reason: 'Media could not be downloaded from the user' },
  131053: { category: 'invalid-request', retryable: false, reason: 'Media could not be uploaded' },
  131000: { category: 'provider-unavailable', retryable: true, reason: 'Something went wrong at Meta: retry' },
  131016: { category: 'provider-unavailable', retryable: true, reason: 'WhatsApp service temporarily unavailable: retry' },
  131008: { category: 'invalid-request', retryable: false, reason: 'A required parameter is missing' },
  131009: { category: 'invalid-request', retryable: false, reason: 'A parameter value is not valid' },
  100: { category: 'invalid-request', retryable: false, reason: 'Invalid parameter' },
  131021: { category: 'recipient', retryable: false, reason: 'Sender and recipient are the same number' },
  131031: { category: 'auth', retryable: false, reason: 'Business account locked or restricted' },
  131042: { category: 'auth', retryable: false, reason: 'Payment problem on the business account' },
  131045: { category: 'auth', retryable: false, reason: 'Phone number not registered' },
  131062: { category: 'recipient', retryable: false, reason: 'Business-scoped user id recipients are not supported for this message' },
  133010: { category: 'auth', retryable: false, reason: 'Phone number not registered on the Cloud API' },
  132000: { category: 'template', retryable: false, reason: 'Template parameter count does not match' },
  132001: { category: 'template', retryable: false, reason: 'Template does not exist in this language or is not approved' },
  132005: { category: 'template', retryable: false, reason: 'Translated template text is too long' },
  132007: { category: 'template', retryable: false, reason: 'Template content violates a WhatsApp policy' },
  132012: { category: 'template', retryable: false, reason: 'Template parameter has the wrong format' },
  132015: { category: 'template', retryable: false, reason: 'Template paused for low quality' },
  132016: { category: 'template', retryable: false, reason: 'Template disabled for low quality' },
  132068: { category: 'template', retryable: false, reason: 'Flow is blocked' },
  132069: { category: 'template', retryable: false, reason: 'Flow is throttled' },
};

/** Maps an error as Meta reports it (sync response or webhook `errors[]`) to a typed provider error. */
export function classifyProviderError(input: { code?: number; title?: string; message?: string; details?: string; httpStatus?: number; fbtraceId?: string }): ProviderError {
  const code = typeof input.code === 'number' ? input.code : 0;
  const title = input.title ?? input.message;
  // Only the fields that are known: stored documents must not carry nulls for absent values.
  const base = {
    code, ...(title ? { title } : {}), ...(input.details ? { details: input.details } : {}),
    ...(input.httpStatus ? { httpStatus: input.httpStatus } : {}), ...(input.fbtraceId ? { fbtraceId: input.fbtraceId } : {}),
  };
  const exact = PROVIDER_ERROR_TABLE[code];
  if (exact && !(code === 0 && input.code === undefined)) return { ...base, ...exact };
  if (code >= 132000 && code < 133000) return { ...base, category: 'template', retryable: false, reason: 'Template error' };
  if (code >= 200 && code < 300) return { ...base, category: 'auth', retryable: false, reason: 'Permission error' };
  if (input.httpStatus === 429) return { ...base, category: 'rate-limit', retryable: true, reason: 'Rate limited (HTTP 429)' };
  if (input.httpStatus !== undefined && input.httpStatus >= 500) return { ...base, category: 'provider-unavailable', retryable: true, reason: `Graph API answered HTTP ${input.httpStatus}` };
  return { ...base, category: 'unknown', retryable: false, reason: 'Unrecognised provider error: see the details and Meta\'s error-code page' };
}
