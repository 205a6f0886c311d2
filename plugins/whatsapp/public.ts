/** What plugins that declare `dependsOn: ['whatsapp']` may use. */
export { TemplateReviews, TemplateStatusListenerToken, type TemplateStatusListener, type TemplateSubmission } from './services/template-reviews.js';
export type { TemplateStatusEvent } from './events.js';
export type { GraphResult } from './graph/graph-client.js';
export type { ProviderError } from './graph/provider-errors.js';
