import { migration001 } from './001-foundation.ts';
import { migration002 } from './002-sms-parts.ts';
import { migration003 } from './003-messaging.ts';
import { migration004 } from './004-mms.ts';
import { migration007 } from './007-dashboard.ts';
import { migration008 } from './008-calls.ts';
import { migration009 } from './009-call-turns.ts';
import { migration010 } from './010-lean-write-path.ts';
import { migration011 } from './011-part-submission.ts';
import { migration012 } from './012-held-deliveries.ts';
import { migration013 } from './013-inbound-data.ts';
import { migration015 } from './015-sim-inboxes.ts';
import { migration016 } from './016-webhook-answers.ts';
import { migration017 } from './017-conversation-reads.ts';
import { migration018 } from './018-opt-outs.ts';
import { migration019 } from './019-cluster.ts';
import { migration020 } from './020-rate-buckets.ts';
import { migration021 } from './021-media-blobs.ts';
import { migration022 } from './022-call-nodes.ts';
import type { Migration } from './types.ts';

export type { Migration } from './types.ts';

/** Every migration, in version order. Add new ones at the end, never edit a landed one. */
export const MIGRATIONS: readonly Migration[] = [migration001, migration002, migration003, migration004, migration007, migration008, migration009, migration010, migration011, migration012, migration013, migration015, migration016, migration017, migration018, migration019, migration020, migration021, migration022];
