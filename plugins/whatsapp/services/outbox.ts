/**
 * Sends that do not come from a workflow (API, schedule, campaign, retry): the send policies
 * decide first, then the message is stored and sent, stored as denied with the deciding policy,
 * or parked until a deferral ends. Workflow steps are guarded by the engine instead.
 */
import type { Model, Types, UpdateQuery } from 'mongoose';
import { inject, injectable, MongoConnection, Scheduler } from '../../../core/index.js';
import { MessageModel, type Message, type PolicyDecision } from '../models/message.js';
import { MessageKeys } from './message-keys.js';
import { MessageLocks } from './message-locks.js';
import { Messenger, type OutboundRequest } from './messenger.js';
import { SendPolicies } from './send-policies.js';

export const SEND_STORED_JOB = 'whatsapp.send-stored';

export type SendOutcome =
  | { kind: 'existing'; message: Message }
  | { kind: 'denied'; message: Message; decision: PolicyDecision }
  | { kind: 'deferred'; message: Message; decision: PolicyDecision }
  | { kind: 'dispatched'; message: Message };

@injectable()
export class Outbox {
  constructor(
    @inject(Messenger) private readonly messenger: Messenger,
    @inject(SendPolicies) private readonly policies: SendPolicies,
    @inject(Scheduler) private readonly scheduler: Scheduler,
    @inject(MessageModel.token) private readonly messages: Model<Message>,
    @inject(MessageKeys) private readonly keys: MessageKeys,
    @inject(MessageLocks) private readonly locks: MessageLocks,
    @inject(MongoConnection) private readonly mongo: MongoConnection,
  ) {}

  /**
   * Runs the policies and sends now, unless the key was used before (then nothing is sent; a
   * message still `scheduled` under it gets its job again, in case saving it failed the first time).
   */
  async send(request: OutboundRequest, options: { idempotencyKey: string; origin: Message['origin']; createdBy?: string }): Promise<SendOutcome> {
    const previous = await this.keys.byIdempotencyKey(options.idempotencyKey);
    if (previous) {
      await this.rescheduleIfWaiting(previous);
      return { kind: 'existing', message: previous };
    }
    const { verdict, decisions } = await this.policies.evaluate(policyInput(request), { key: options.idempotencyKey });
    if (verdict.decision === 'deny') {
      const { message } = await this.messenger.store(request, { ...options, status: 'denied', policyDecisions: decisions });
      return { kind: 'denied', message, decision: decisions.find((d) => d.decision === 'deny') as PolicyDecision };
    }
    if (verdict.decision === 'defer') {
      const { message } = await this.messenger.store(request, { ...options, status: 'scheduled', scheduledFor: verdict.until, policyDecisions: decisions });
      await this.rescheduleIfWaiting(message);
      return { kind: 'deferred', message, decision: decisions.filter((d) => d.decision === 'defer').sort((a, b) => Number(b.until) - Number(a.until))[0] as PolicyDecision };
    }
    const { message, created } = await this.messenger.storeAndSend(request, { ...options, policyDecisions: decisions });
    return created ? { kind: 'dispatched', message } : { kind: 'existing', message };
  }

  /** Stores a message to be sent at `at`; the policies run then, not now. */
  async schedule(request: OutboundRequest, at: Date, options: { idempotencyKey: string; createdBy?: string }): Promise<{ message: Message; created: boolean }> {
    const stored = await this.messenger.store(request, { ...options, origin: 'schedule', status: 'scheduled', scheduledFor: at });
    await this.rescheduleIfWaiting(stored.message);
    return stored;
  }

  async scheduleStored(id: Types.ObjectId | string, at: Date): Promise<void> {
    await this.scheduler.at(at, SEND_STORED_JOB, { messageId: String(id) }, String(id));
  }

  /**
   * (Re)saves the job of a message stored `scheduled`. A repeated request finds the message
   * stored but maybe no job (saving it failed, and the client retried): saving it again under the
   * message's key replaces the one there may be, so it runs once either way.
   */
  private async rescheduleIfWaiting(message: Message): Promise<void> {
    if (message.status === 'scheduled' && message.scheduledFor) await this.scheduleStored(message._id, message.scheduledFor);
  }

  /**
   * Sends a stored queued/scheduled message after running the policies again (a schedule, a
   * deferral or a retry may find a closed window). Returns the message as it stands after.
   * With `waitUpToMs`, a deferral ending within that time is waited for here. A deferral saves
   * the message's one job (keyed by its id) for the new time; called from that job, which Agenda
   * saves after the run, it is `runNextAt` instead.
   */
  async sendStored(id: Types.ObjectId | string, options: { waitUpToMs?: number; runNextAt?: (at: Date) => void } = {}): Promise<Message | null> {
    const message = await this.messages.findById(id).lean<Message>();
    if (!message || (message.status !== 'scheduled' && message.status !== 'queued')) return message;
    const evaluate = () => this.policies.evaluate(policyInput(messageRequest(message)), { key: message.idempotencyKey });
    let { verdict, decisions } = await evaluate();
    // A campaign waits out short deferrals (a throughput slot next second) itself rather than
    // parking each recipient in a job; the policies run again after the wait.
    while (verdict.decision === 'defer' && options.waitUpToMs) {
      const waitMs = verdict.until.getTime() - Date.now();
      if (waitMs > options.waitUpToMs) break;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, waitMs)));
      ({ verdict, decisions } = await evaluate());
    }
    if (verdict.decision === 'deny') {
      return await this.changeIfStill(message, { $set: { status: 'denied', policyDecisions: decisions, updatedAt: new Date() }, $push: { timeline: { status: 'denied', at: new Date(), source: 'flowgate' } } })
        ?? this.messages.findById(message._id).lean<Message>();
    }
    if (verdict.decision === 'defer') {
      const deferred = await this.changeIfStill(message, { $set: { status: 'scheduled', scheduledFor: verdict.until, policyDecisions: decisions, updatedAt: new Date() } });
      // Cancelled, or sent by another runner, while the policies ran: nothing to send later.
      if (!deferred) return this.messages.findById(message._id).lean<Message>();
      if (options.runNextAt) options.runNextAt(verdict.until);
      else await this.scheduleStored(message._id, verdict.until);
      return deferred;
    }
    return this.messenger.dispatch(message._id);
  }

  /**
   * Writes `update` only while the message is in the status it was read in, returning it after
   * (null when it moved meanwhile): by `_id`, and on FerretDB under the message's lock, which
   * the claim and the cancel take too (see MessageLocks).
   */
  private async changeIfStill(message: Message, update: UpdateQuery<Message>): Promise<Message | null> {
    return this.locks.hold(message._id, () => this.mongo.findOneAndUpdateById(this.messages, { _id: message._id, status: message.status }, update));
  }

  /** Cancels a queued or scheduled message and its pending job. */
  async cancel(id: string): Promise<Message> {
    const message = await this.messenger.cancel(id);
    await this.scheduler.cancel(SEND_STORED_JOB, id);
    return message;
  }
}

/** What the policies see: the same shape as the `whatsapp.send@1` input. */
export function policyInput(request: OutboundRequest): Record<string, unknown> {
  return Object.fromEntries(Object.entries(request).filter(([, value]) => value !== undefined));
}

export function messageRequest(message: Message): OutboundRequest {
  return {
    to: message.phone ?? message.userId ?? '', from: message.phoneNumberId, text: message.text, template: message.template,
    buttons: (message.interactive as { buttons?: OutboundRequest['buttons'] } | undefined)?.buttons, replyTo: message.context?.messageId,
  };
}
