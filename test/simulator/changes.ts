// `POST /_sim/change`: targeted changes to named objects at the current simulated time, as a
// business makes them through Stripe's API, each with the events Stripe would send. Every change
// of a request is checked before any is made, so a bad one leaves the data as it was.
import { z } from 'zod';
import type { AnyRow, CouponRow, CustomerRow, ObjectRow, ObjectStreamName, ProductRow } from './rows.js';
import type { AccountState } from './store.js';
import type { ModeWorld } from './world.js';

type FieldKind = 'string' | 'nullable_string' | 'boolean' | 'metadata';

/** A field as the API names it, and the row field that holds it. */
interface Field {
  readonly row: string;
  readonly kind: FieldKind;
}

interface Changeable {
  readonly updatedEvent: string;
  readonly fields: Readonly<Record<string, Field>>;
  /** Row field set to the change's time with every change (a product's `updated`). */
  readonly stamp?: string;
}

const METADATA: Field = { row: 'metadata', kind: 'metadata' };
const field = (kind: FieldKind, row: string): Field => ({ row, kind });

/** What can be updated, stream by stream: the fields the API renders straight from the row. */
const CHANGEABLE: Partial<Record<ObjectStreamName, Changeable>> = {
  customers: {
    updatedEvent: 'customer.updated',
    fields: {
      name: field('nullable_string', 'name'),
      email: field('nullable_string', 'email'),
      description: field('nullable_string', 'description'),
      phone: field('nullable_string', 'phone'),
      metadata: METADATA,
    },
  },
  products: {
    updatedEvent: 'product.updated',
    fields: { name: field('string', 'name'), description: field('nullable_string', 'description'), active: field('boolean', 'active'), metadata: METADATA },
    stamp: 'updated',
  },
  prices: {
    updatedEvent: 'price.updated',
    fields: { active: field('boolean', 'active'), nickname: field('nullable_string', 'nickname'), lookup_key: field('nullable_string', 'lookupKey'), metadata: METADATA },
  },
  coupons: { updatedEvent: 'coupon.updated', fields: { name: field('string', 'name'), metadata: METADATA } },
  subscriptions: { updatedEvent: 'customer.subscription.updated', fields: { metadata: METADATA } },
  invoices: { updatedEvent: 'invoice.updated', fields: { metadata: METADATA } },
  charges: { updatedEvent: 'charge.updated', fields: { metadata: METADATA } },
  disputes: { updatedEvent: 'charge.dispute.updated', fields: { metadata: METADATA } },
  credit_notes: { updatedEvent: 'credit_note.updated', fields: { metadata: METADATA } },
  payouts: { updatedEvent: 'payout.updated', fields: { metadata: METADATA } },
  transfers: { updatedEvent: 'transfer.updated', fields: { metadata: METADATA } },
};

const ChangeSchema = z.strictObject({
  account: z.string(),
  stream: z.string(),
  id: z.string(),
  update: z.record(z.string(), z.unknown()).optional(),
  delete: z.literal(true).optional(),
});

export const ChangeRequestSchema = z.strictObject({
  mode: z.enum(['test', 'live']).optional(),
  changes: z.array(ChangeSchema).min(1),
});

export type ChangeRequest = z.infer<typeof ChangeRequestSchema>;

export interface ChangeEvent {
  readonly id: string;
  readonly type: string;
}

export interface ChangeOutcome {
  readonly account: string;
  readonly stream: ObjectStreamName;
  readonly id: string;
  readonly action: 'updated' | 'unchanged' | 'deleted';
  /** For updates: the changed fields (API names) before and after. */
  readonly previous?: Record<string, unknown>;
  readonly current?: Record<string, unknown>;
  readonly events: readonly ChangeEvent[];
}

export interface ChangeReport {
  readonly now: number;
  readonly changes: readonly ChangeOutcome[];
  /** Every event the changes created, oldest first. */
  readonly events: readonly string[];
}

/** One change, checked and ready to make. */
interface Planned {
  readonly account: AccountState;
  readonly row: ObjectRow;
  /** Row fields to set (empty: nothing changes), or null to delete the object. */
  readonly rowChanges: Record<string, unknown> | null;
  readonly previous: Record<string, unknown>;
  readonly current: Record<string, unknown>;
}

/** Checks every change of `request`, then makes them in order. Throws, having changed nothing, on the first bad one. */
export function applyChanges(modeWorld: ModeWorld, request: ChangeRequest): ChangeReport {
  const seen = new Set<string>();
  const plans = request.changes.map((change, i) => {
    const plan = planChange(modeWorld, change, `changes[${i}]`);
    const key = `${plan.account.id}/${plan.row.id}`;
    if (seen.has(key)) throw new Error(`changes[${i}]: ${change.stream} ${change.id} is named by an earlier change; make one change per object`);
    seen.add(key);
    return plan;
  });
  const outcomes = plans.map((plan) => makeChange(modeWorld, plan));
  return { now: modeWorld.now, changes: outcomes, events: outcomes.flatMap((o) => o.events.map((e) => e.id)) };
}

function planChange(modeWorld: ModeWorld, change: ChangeRequest['changes'][number], where: string): Planned {
  const account = change.account === modeWorld.platform.id ? modeWorld.platform : modeWorld.connected.get(change.account);
  if (!account) throw new Error(`${where}.account: ${change.account} is not an account in ${modeWorld.mode} mode`);
  const stream = change.stream as ObjectStreamName;
  if (!Object.hasOwn(account.streams, stream)) throw new Error(`${where}.stream: no stream ${change.stream} (streams with objects: ${Object.keys(account.streams).join(', ')})`);
  const row = account.get(stream, change.id);
  if (!row) throw new Error(`${where}: no ${stream} object ${change.id} in account ${account.id}`);
  if (row.deleted) throw new Error(`${where}: ${stream} ${change.id} is deleted`);
  if ((change.update === undefined) === (change.delete === undefined)) throw new Error(`${where} needs either "update": {field: value, …} or "delete": true`);
  if (change.delete) {
    const refusal = modeWorld.business.deletionRefusal(account, row);
    if (refusal) throw new Error(`${where}: ${refusal}`);
    return { account, row, rowChanges: null, previous: {}, current: {} };
  }
  const changeable = CHANGEABLE[stream];
  if (!changeable) throw new Error(`${where}.stream: the simulator cannot change ${stream} (changeable: ${Object.keys(CHANGEABLE).join(', ')})`);
  const target = row as unknown as Record<string, unknown>;
  const rowChanges: Record<string, unknown> = {};
  const previous: Record<string, unknown> = {};
  const current: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(change.update as Record<string, unknown>)) {
    const spec = changeable.fields[name];
    if (!spec) throw new Error(`${where}.update.${name}: ${stream} have no changeable field ${name} (changeable: ${Object.keys(changeable.fields).join(', ')})`);
    const before = target[spec.row];
    const after = spec.kind === 'metadata' ? mergeMetadata(before as Readonly<Record<string, string>>, value, `${where}.update.${name}`) : checkValue(spec.kind, value, `${where}.update.${name}`);
    if (JSON.stringify(after) === JSON.stringify(before)) continue;
    rowChanges[spec.row] = after;
    previous[name] = before;
    current[name] = after;
  }
  if (changeable.stamp && Object.keys(rowChanges).length > 0) rowChanges[changeable.stamp] = modeWorld.now;
  return { account, row, rowChanges, previous, current };
}

function checkValue(kind: Exclude<FieldKind, 'metadata'>, value: unknown, where: string): unknown {
  if (kind === 'boolean' && typeof value !== 'boolean') throw new Error(`${where}: must be true or false`);
  if (kind === 'string' && (typeof value !== 'string' || value === '')) throw new Error(`${where}: must be a non-empty string`);
  if (kind === 'nullable_string' && typeof value !== 'string' && value !== null) throw new Error(`${where}: must be a string or null`);
  // Stripe unsets a nullable field given an empty string.
  return kind === 'nullable_string' && value === '' ? null : value;
}

/** Stripe merges metadata: keys given are set, a key given "" (or null) is removed, others stay. */
function mergeMetadata(before: Readonly<Record<string, string>>, value: unknown, where: string): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${where}: must be an object of strings`);
  const merged: Record<string, string> = { ...before };
  for (const [key, v] of Object.entries(value)) {
    if (v === '' || v === null) delete merged[key];
    else if (typeof v === 'string') merged[key] = v;
    else throw new Error(`${where}.${key}: must be a string ("" or null removes the key)`);
  }
  return merged;
}

function makeChange(modeWorld: ModeWorld, plan: Planned): ChangeOutcome {
  const { account, row } = plan;
  const eventsBefore = account.events.length;
  const business = modeWorld.business;
  let action: ChangeOutcome['action'];
  if (plan.rowChanges === null) {
    business.deleteOnRequest(account, row as CustomerRow | ProductRow | CouponRow);
    action = 'deleted';
  } else if (Object.keys(plan.rowChanges).length === 0) {
    action = 'unchanged';
  } else {
    const changeable = CHANGEABLE[row.stream] as Changeable;
    business.updateOnRequest(account, row as AnyRow, plan.rowChanges, changeable.updatedEvent);
    action = 'updated';
  }
  const events = account.events.slice(eventsBefore).map((e) => ({ id: e.id, type: e.type }));
  const outcome = { account: account.id, stream: row.stream, id: row.id, action, events };
  return action === 'updated' ? { ...outcome, previous: plan.previous, current: plan.current } : outcome;
}
