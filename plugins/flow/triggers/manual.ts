import { injectable, type Trigger } from '../../../core/index.js';

/** `flow.manual@1`: runs only when started over the API; the request's payload is the event. */
@injectable()
export class ManualTrigger implements Trigger {}
