/**
 * What other plugins may use from the WhatsApp plugin (those that list `whatsapp` in `dependsOn`):
 * the configured senders, contacts with their 24-hour service windows, message lookups by wamid,
 * and the feed of sends the Graph API refused.
 */
export { Senders, type Sender } from './graph/senders.js';
export { ContactDirectory, type WindowState } from './services/contact-directory.js';
export { MessageKeys } from './services/message-keys.js';
export { SendFeedback, type ProviderRefusal, type ProviderRefusalListener } from './services/send-feedback.js';
export type { ProviderError, ProviderErrorCategory } from './graph/provider-errors.js';
