/**
 * Analytics: facts reported by every plugin (the `analytics` core event) and ingested by clients,
 * kept raw for a retention period and rolled up at write time into hour and day buckets per type
 * and dimension combination, read in any IANA time zone. docs/analytics.md explains the design.
 */
import type { Plugin } from '../../core/index.js';
import { AnalyticsLifecycle } from './analytics-lifecycle.js';
import { analyticsConfigSchema, AnalyticsConfigToken, type AnalyticsConfig } from './config.js';
import { PRUNE_JOB, PruneEventsJob } from './jobs/prune-events.js';
import { AnalyticsEventModel } from './models/analytics-event.js';
import { CountedTypeModel, DayRollupModel, HourRollupModel } from './models/rollup.js';
import { AnalyticsRoutes } from './routes.js';
import { realtimeSnapshotSchema } from './schemas.js';
import { EventRecorder } from './services/event-recorder.js';
import { Figures } from './services/figures.js';
import { RecentActivity } from './services/recent-activity.js';
import { RollupBuffer } from './services/rollup-buffer.js';
import { RollupFlusher } from './services/rollup-flusher.js';
import { RollupReader } from './services/rollup-reader.js';

const analytics: Plugin<AnalyticsConfig> = {
  manifest: {
    id: 'analytics',
    version: '1.0.0',
    core: '^0.1.0',
    description: 'Message, consent, workflow and sales figures: raw events with retention, write-time hour/day rollups, time zones, realtime counts',
    configSchema: analyticsConfigSchema,
  },
  register(r) {
    r.bind(AnalyticsConfigToken).toConstantValue(r.config);
    r.bind(RollupBuffer).toSelf().inSingletonScope();
    r.bind(EventRecorder).toSelf().inSingletonScope();
    r.bind(RollupFlusher).toSelf().inSingletonScope();
    r.bind(RollupReader).toSelf().inSingletonScope();
    r.bind(Figures).toSelf().inSingletonScope();
    r.bind(RecentActivity).toSelf().inSingletonScope();
    r.model(AnalyticsEventModel);
    r.model(DayRollupModel);
    r.model(HourRollupModel);
    r.model(CountedTypeModel);
    r.permissions({ 'analytics:read': 'analyst', 'analytics:ingest': 'manager' });
    r.routes(AnalyticsRoutes);
    r.job({ name: PRUNE_JOB, handler: PruneEventsJob, concurrency: 1 });
    r.topic({
      name: 'analytics', permission: 'analytics:read', summary: 'Counts by type for the last 5 minutes, pushed every few seconds while events arrive',
      events: { 'analytics.realtime': realtimeSnapshotSchema },
    });
    r.lifecycle(AnalyticsLifecycle);
  },
};

export default analytics;
