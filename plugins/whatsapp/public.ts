/**
 * What plugins that declare `dependsOn: ['whatsapp']` may use: template review, the configured
 * senders, contacts with their 24-hour service windows, message lookups by wamid, and the sends
 * the Graph API refused (for a rate limiter's backoff).
 */
export { TemplateReviews, TemplateStatusListenerToken, type TemplateStatusListener, type TemplateSubmission } from './services/template-reviews.js';
export { ProviderRefusalListenerToken, type ProviderRefusal, type ProviderRefusalListener } from './services/send-feedback.js';
export { Senders, type Sender } from './graph/senders.js';
export { ContactDirectory, type WindowState } from './services/contact-directory.js';
export { MessageKeys } from './services/message-keys.js';
export type { TemplateStatusEvent } from './events.js';
export type { GraphResult } from './graph/graph-client.js';
export type { ProviderError, ProviderErrorCategory } from './graph/provider-errors.js';
