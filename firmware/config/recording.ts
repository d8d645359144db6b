// When a channel is recorded: the `recording` field of IP and analog channels.
import { object, oneOf } from '../core/schema.js';

export const channelRecordingSchema = object({
  mode: oneOf(['continuous', 'events', 'off'] as const)
    .default('continuous')
    .describe(
      'continuous: all the time; events: only while a linkage rule records the channel (with its pre- and post-record) or recording is switched on by hand; off: never (live view only)',
    ),
});
