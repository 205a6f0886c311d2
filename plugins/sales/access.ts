/**
 * Who sees which sales. Permissions follow the role ladder (owner > admin > manager > agent >
 * analyst > viewer); the row-level rule is on top of them: someone who sells (`sales:record`)
 * but does not manage sales sees only the sales where they are the agent, in lists, single
 * reads, reports and exports alike. Analysts do not sell, so reports show them every agent.
 */
import type { Principal } from '../../core/index.js';

export const Permissions = {
  /** Record sales (as oneself), update one's own, manage one's leads. */
  record: 'sales:record',
  /** List and read sales (one's own, see `ownAgentScope`). */
  read: 'sales:read',
  /** Every agent's sales and leads: read, update, record on someone's behalf. */
  manage: 'sales:manage',
  void: 'sales:void',
  /** Summary, breakdown, export and stored reports. */
  reportsRead: 'reports:read',
  reportsSchedule: 'reports:schedule',
} as const;

export const PERMISSION_GRANTS = {
  [Permissions.record]: 'agent',
  [Permissions.read]: 'agent',
  [Permissions.manage]: 'manager',
  [Permissions.void]: 'manager',
  [Permissions.reportsRead]: 'analyst',
  [Permissions.reportsSchedule]: 'manager',
} as const;

/** The agent id `principal` is limited to, or null when it sees every agent's sales. */
export function ownAgentScope(principal: Principal): string | null {
  if (principal.permissions.has(Permissions.manage)) return null;
  return principal.permissions.has(Permissions.record) ? principal.id : null;
}

export const canManage = (principal: Principal): boolean => principal.permissions.has(Permissions.manage);
