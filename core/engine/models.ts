/**
 * What the engine stores. User data (event payloads, step inputs and outputs) is kept as JSON
 * text: it may hold keys with dots or `$`, or nested arrays, which documents cannot hold on
 * every MongoDB-protocol server, and it is never queried by field.
 */
import { Schema } from 'mongoose';
import { defineModel } from '../storage/mongo.js';

export const EXECUTION_STATUSES = ['queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];
export const FINISHED: readonly ExecutionStatus[] = ['succeeded', 'failed', 'cancelled'];

export interface WorkflowRecord {
  _id: string;
  currentVersion: number;
  enabled: boolean;
  source: 'file' | 'api';
  file?: string;
  deleted: boolean;
  updatedAt: Date;
  /** The last rejected change (an invalid file edit), shown by the API while the previous version stays active. */
  lastError?: { at: Date; issuesJson: string } | null;
}

export interface WorkflowVersionRecord {
  _id: string;
  workflowId: string;
  version: number;
  hash: string;
  definitionJson: string;
  source: 'file' | 'api';
  createdBy: string;
  createdAt: Date;
}

export interface WorkflowEventRecord {
  _id: string;
  type: string;
  sourceId: string;
  payloadJson: string;
  /** Set when the event is meant for one workflow only (manual runs). */
  workflowId?: string | null;
  receivedAt: Date;
  dispatched: boolean;
  executionCount: number;
}

export interface PolicyDecisionRecord {
  policy: string;
  decision: 'allow' | 'deny' | 'defer';
  code?: string;
  reason?: string;
  until?: Date;
}

export interface StepTrailRecord {
  stepId: string;
  action?: string;
  /** Position in a forEach, or -1. */
  index: number;
  attempt: number;
  status: 'succeeded' | 'failed' | 'retrying' | 'denied' | 'deferred' | 'skipped';
  inputJson?: string;
  outputJson?: string;
  port?: string;
  /** Its result came from the action's `recall` (an effect made before a process stopped), not a new run. */
  recalled?: boolean;
  error?: { code: string; message: string; retryable: boolean } | null;
  decisions: PolicyDecisionRecord[];
  startedAt: Date;
  finishedAt: Date;
  durationMs: number;
}

export interface ExecutionRecord {
  _id: string;
  workflowId: string;
  workflowVersion: number;
  eventId: string;
  triggerType: string;
  triggerJson: string;
  status: ExecutionStatus;
  simulate: boolean;
  /** Step id to run next, with how far a forEach got and the attempt; null when finished. */
  cursor: { stepId: string; index: number; attempt: number } | null;
  /** `steps.<id>` context as JSON text: `{ output, port }` per finished step. */
  stepsJson: string;
  /** forEach outputs gathered so far for the step at the cursor. */
  partialJson?: string | null;
  trail: StepTrailRecord[];
  lease: { owner: string; until: Date } | null;
  wakeAt: Date | null;
  deadlineAt: Date | null;
  error: { code: string; message: string; stepId?: string } | null;
  /** True once the onError path has been entered, so a failure there ends the execution. */
  inErrorPath: boolean;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

const workflowSchema = new Schema<WorkflowRecord>({
  _id: { type: String, required: true },
  currentVersion: { type: Number, required: true },
  enabled: { type: Boolean, required: true },
  source: { type: String, required: true, enum: ['file', 'api'] },
  file: { type: String },
  deleted: { type: Boolean, required: true, default: false },
  updatedAt: { type: Date, required: true },
  lastError: { type: new Schema({ at: Date, issuesJson: String }, { _id: false }), default: null },
}, { versionKey: false });

const versionSchema = new Schema<WorkflowVersionRecord>({
  _id: { type: String, required: true },
  workflowId: { type: String, required: true },
  version: { type: Number, required: true },
  hash: { type: String, required: true },
  definitionJson: { type: String, required: true },
  source: { type: String, required: true },
  createdBy: { type: String, required: true },
  createdAt: { type: Date, required: true },
}, { versionKey: false });
versionSchema.index({ workflowId: 1, version: -1 });

const eventSchema = new Schema<WorkflowEventRecord>({
  _id: { type: String, required: true },
  type: { type: String, required: true },
  sourceId: { type: String, required: true },
  payloadJson: { type: String, required: true },
  workflowId: { type: String, default: null },
  receivedAt: { type: Date, required: true },
  dispatched: { type: Boolean, required: true },
  executionCount: { type: Number, required: true, default: 0 },
}, { versionKey: false });
// No unique index on (type, sourceId): the _id is derived from both, and FerretDB v1 checks a
// secondary unique index by scanning, which made every insert slower as the collection grew.
eventSchema.index({ dispatched: 1, receivedAt: 1 });

const decisionSchema = new Schema<PolicyDecisionRecord>({ policy: String, decision: String, code: String, reason: String, until: Date }, { _id: false });
const trailSchema = new Schema<StepTrailRecord>({
  stepId: String, action: String, index: Number, attempt: Number, status: String, inputJson: String, outputJson: String, port: String, recalled: Boolean,
  error: { type: new Schema({ code: String, message: String, retryable: Boolean }, { _id: false }), default: null },
  decisions: [decisionSchema], startedAt: Date, finishedAt: Date, durationMs: Number,
}, { _id: false });

const executionSchema = new Schema<ExecutionRecord>({
  _id: { type: String, required: true },
  workflowId: { type: String, required: true },
  workflowVersion: { type: Number, required: true },
  eventId: { type: String, required: true },
  triggerType: { type: String, required: true },
  triggerJson: { type: String, required: true },
  status: { type: String, required: true, enum: EXECUTION_STATUSES },
  simulate: { type: Boolean, default: false },
  cursor: { type: new Schema({ stepId: String, index: Number, attempt: Number }, { _id: false }), default: null },
  stepsJson: { type: String, required: true },
  partialJson: { type: String, default: null },
  trail: [trailSchema],
  lease: { type: new Schema({ owner: String, until: Date }, { _id: false }), default: null },
  wakeAt: { type: Date, default: null },
  deadlineAt: { type: Date, default: null },
  error: { type: new Schema({ code: String, message: String, stepId: String }, { _id: false }), default: null },
  inErrorPath: { type: Boolean, default: false },
  createdAt: { type: Date, required: true },
  updatedAt: { type: Date, required: true },
  finishedAt: { type: Date, default: null },
}, { versionKey: false });
executionSchema.index({ eventId: 1 });
executionSchema.index({ status: 1, 'lease.until': 1 });
executionSchema.index({ status: 1, wakeAt: 1 });
executionSchema.index({ workflowId: 1, createdAt: -1 });
executionSchema.index({ createdAt: -1 });

export const WorkflowModel = defineModel<WorkflowRecord>('Workflow', workflowSchema);
export const WorkflowVersionModel = defineModel<WorkflowVersionRecord>('WorkflowVersion', versionSchema);
export const WorkflowEventModel = defineModel<WorkflowEventRecord>('WorkflowEvent', eventSchema);
export const ExecutionModel = defineModel<ExecutionRecord>('Execution', executionSchema);
