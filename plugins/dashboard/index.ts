/**
 * The live dashboard at `/dashboard`: a static page that signs in over the REST API and listens on
 * the Socket.IO topics, so it shows only what any other client could see with the same role.
 */
import type { Plugin } from '../../core/index.js';
import { DashboardRoutes } from './routes.js';

const dashboard: Plugin = {
  manifest: {
    id: 'dashboard',
    version: '1.0.0',
    core: '^0.1.0',
    description: 'A live dashboard page: executions, messages, consent, rate limits, analytics, audit, workflows',
  },
  register(r) {
    r.routes(DashboardRoutes);
  },
};

export default dashboard;
