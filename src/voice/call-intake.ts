import { QuotaExceededError, ValidationError } from '../errors/index.ts';
import type { CallRecord, NumberRecord } from '../store/index.ts';
import type { CallLog } from './call-log.ts';

const E164 = /^\+[1-9][0-9]{6,14}$/;

export interface OutboundCallInput {
  to: string;
  greeting?: string;
  instructions?: string;
  apiKeyId?: string | null;
}

/** Places calls (POST /calls, the MCP place_call tool) and ends them from the API, wherever they live. */
export interface CallControl {
  /** Records the call as queued; it is dialled in the background. */
  placeCall(number: NumberRecord, input: OutboundCallInput): Promise<CallRecord>;
  /** Ends a call (or cancels one not answered yet); false when no node here could act on it at once. */
  hangup(callId: string): Promise<boolean>;
}

export interface CallIntakeDeps {
  log: CallLog;
  /** Refuses calls to contacts who opted out of the number (compliance); throws ContactOptedOutError. */
  optOuts?: { assertAllowed(number: NumberRecord, contact: string): Promise<void> } | undefined;
}

/**
 * What every outbound call goes through before it is dialled, on whichever node accepts it:
 * an E.164 destination, no opt-out, the number's minutes (or overage); then it is recorded as
 * queued, on `nodeId` (null: for any voice node of the cluster to claim). `ready` runs between
 * the opt-out and the quota checks (the local manager refuses there when its models are missing).
 */
export async function recordOutboundCall(deps: CallIntakeDeps, number: NumberRecord, input: OutboundCallInput, nodeId: string | null, ready?: () => void): Promise<CallRecord> {
  if (!E164.test(input.to)) throw new ValidationError('to: must be an E.164 phone number, e.g. +15559876543');
  await deps.optOuts?.assertAllowed(number, input.to);
  ready?.();
  if (!(await deps.log.mayCall(number))) {
    throw new QuotaExceededError('This number has used its included voice minutes for this month and overage is off');
  }
  return deps.log.create(number, {
    direction: 'outbound',
    contact: input.to,
    greeting: input.greeting ?? null,
    instructions: input.instructions ?? null,
    apiKeyId: input.apiKeyId ?? null,
    nodeId,
  });
}
