// What one Stripe event tells of the objects of our streams: the one rule that the events pass of
// a sync and the webhook receiver of `serve` both follow, so that a change arriving either way
// becomes the same record. An event's copy of its object is the record when it is in our shape
// (rendered at our API version, of a stream that expands nothing: an event's copy never holds
// expansions); otherwise the object is fetched again. A `*.deleted` event marks its object
// deleted. Objects that Stripe changes silently along with this one are fetched again too.
import { RELATED_REFRESH, STREAM_OF_OBJECT, STREAMS, type StreamName } from '../streams/catalog.js';
import { STRIPE_API_VERSION } from '../stripe/client.js';
import type { StripeObject } from './stream-output.js';

export interface StripeEvent {
  readonly id: string;
  readonly type: string;
  readonly created: number;
  readonly api_version: string | null;
  readonly livemode?: boolean;
  /** The connected account the event happened on; absent for the platform's own events. */
  readonly account?: string;
  readonly data: { readonly object: StripeObject };
}

/** How the event's object becomes a record of its stream. */
export type ObjectChange =
  | { readonly kind: 'deleted'; readonly stream: StreamName; readonly object: StripeObject }
  | { readonly kind: 'as-is'; readonly stream: StreamName; readonly object: StripeObject }
  | { readonly kind: 'refetch'; readonly stream: StreamName; readonly id: string };

export interface EventChanges {
  /** Undefined when the object is of no stream of ours (or is an event). */
  readonly object: ObjectChange | undefined;
  /** Other objects to fetch again: Stripe changed them without an event of their own. */
  readonly related: readonly { readonly stream: StreamName; readonly id: string }[];
}

export function eventChanges(event: StripeEvent): EventChanges {
  const object = event.data.object;
  const stream = object.object ? STREAM_OF_OBJECT.get(object.object) : undefined;
  let change: ObjectChange | undefined;
  if (stream !== undefined && stream !== 'events') {
    if (event.type === `${object.object}.deleted`) change = { kind: 'deleted', stream, object };
    else if (event.api_version === STRIPE_API_VERSION && STREAMS[stream].expand.length === 0) change = { kind: 'as-is', stream, object };
    else change = { kind: 'refetch', stream, id: object.id };
  }
  const related = (RELATED_REFRESH[object.object ?? ''] ?? []).flatMap(({ stream: relatedStream, field }) => {
    const id = object[field];
    return typeof id === 'string' ? [{ stream: relatedStream, id }] : [];
  });
  return { object: change, related };
}
