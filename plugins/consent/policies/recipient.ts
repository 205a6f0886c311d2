/** The recipient phone of a guarded step: `to` of a send, `phone` of a consent step; null for a user id or a reply. */
export function recipientPhone(input: unknown): string | null {
  const { to, phone } = (input ?? {}) as { to?: unknown; phone?: unknown };
  const value = typeof to === 'string' ? to : typeof phone === 'string' ? phone : null;
  if (value === null || !/^\+?[0-9][0-9 ()-]{5,30}$/.test(value)) return null;
  return value.replace(/\D/g, '');
}

/**
 * The category of a guarded message: the policy config's, else the input's `category`, else a
 * template counts as marketing (the strictest reading: Flowgate does not know the template's
 * approved category) and free text as service.
 */
export function messageCategory(configured: string | undefined, input: unknown): string {
  if (configured) return configured;
  const { category, template } = (input ?? {}) as { category?: unknown; template?: unknown };
  if (typeof category === 'string') return category;
  return template ? 'marketing' : 'service';
}
