import type { Template } from './models/template.js';
import type { TemplateVersion } from './models/template-version.js';
import type { StatusChangeView, TemplateDetailView, TemplateView, VersionView } from './schemas.js';

const iso = (date: Date | null): string | null => (date ? date.toISOString() : null);

export function toTemplateView(t: Template): TemplateView {
  return {
    id: String(t._id), name: t.name, language: t.language, category: t.category, parameterFormat: t.parameterFormat, components: t.components, variables: t.variables ?? {},
    status: t.status, statusReason: t.statusReason, statusChangedAt: iso(t.statusChangedAt), version: t.version, submittedVersion: t.submittedVersion,
    providerTemplateId: t.providerTemplateId, archivedAt: iso(t.archivedAt), createdAt: t.createdAt.toISOString(), updatedAt: t.updatedAt.toISOString(),
  };
}

export function toVersionView(v: TemplateVersion): VersionView {
  return {
    version: v.version, category: v.category, parameterFormat: v.parameterFormat, components: v.components, variables: v.variables ?? {},
    createdAt: v.createdAt.toISOString(), createdBy: v.createdBy, submittedAt: iso(v.submittedAt),
  };
}

export function toDetailView(t: Template, versions: TemplateVersion[]): TemplateDetailView {
  const statusHistory: StatusChangeView[] = (t.statusHistory ?? []).map((c) => ({
    status: c.status, previous: c.previous, reason: c.reason, source: c.source, at: c.at.toISOString(), ...(c.by ? { by: c.by } : {}),
  }));
  return { ...toTemplateView(t), versions: versions.map(toVersionView), statusHistory };
}
