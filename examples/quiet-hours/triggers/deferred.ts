import { injectable, type Trigger } from 'flowgate/sdk';

/**
 * `quiet-hours.deferred@1`: fires once for each step quiet hours hold back. The plugin submits
 * the events itself (see DeferralLog), so the trigger only describes them; a workflow narrows
 * them down with its `when` schema.
 */
@injectable()
export class DeferredTrigger implements Trigger {}
