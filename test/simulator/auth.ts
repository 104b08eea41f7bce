// API keys and what each may do. Secret keys may do everything in their mode; restricted keys
// have an access level per resource, and a separate set of Connect permissions that apply when
// they act for a connected account (the Stripe-Account header) or list connected accounts.
import { errors } from './errors.js';
import type { Mode } from './store.js';

export const RESOURCES = [
  'customers', 'products', 'prices', 'coupons', 'subscriptions', 'invoices', 'payment_intents', 'charges', 'refunds',
  'disputes', 'credit_notes', 'payouts', 'balance_transactions', 'transfers', 'application_fees', 'events',
  'account', 'accounts', 'webhook_endpoints',
] as const;

export type Resource = (typeof RESOURCES)[number];
export type Access = 'none' | 'read' | 'write';

/** The permission names Stripe puts in its 403 messages. */
const PERMISSION_NAMES: Record<Resource, string> = {
  customers: 'rak_customer',
  products: 'rak_product',
  prices: 'rak_price',
  coupons: 'rak_coupon',
  subscriptions: 'rak_subscription',
  invoices: 'rak_invoice',
  payment_intents: 'rak_payment_intent',
  charges: 'rak_charge',
  refunds: 'rak_refund',
  disputes: 'rak_dispute',
  credit_notes: 'rak_credit_note',
  payouts: 'rak_payout',
  balance_transactions: 'rak_balance',
  transfers: 'rak_transfer',
  application_fees: 'rak_application_fee',
  events: 'rak_event',
  account: 'rak_account',
  accounts: 'rak_connected_account',
  webhook_endpoints: 'rak_webhook',
};

export function permissionName(resource: Resource, access: Exclude<Access, 'none'>): string {
  return `${PERMISSION_NAMES[resource]}_${access}`;
}

export interface ApiKey {
  readonly key: string;
  readonly mode: Mode;
  readonly kind: 'secret' | 'restricted';
  readonly permissions: Readonly<Partial<Record<Resource, Access>>>;
  readonly connectPermissions: Readonly<Partial<Record<Resource, Access>>>;
  status: 'active' | 'expired' | 'revoked';
}

const RANK: Record<Access, number> = { none: 0, read: 1, write: 2 };

function everything(access: Access): Partial<Record<Resource, Access>> {
  return Object.fromEntries(RESOURCES.map((r) => [r, access]));
}

function keyMode(key: string): { kind: 'secret' | 'restricted'; mode: Mode } {
  const match = /^(sk|rk)_(test|live)_[A-Za-z0-9_]+$/.exec(key);
  if (!match) throw new Error(`"${key}" is not an API key: use sk_test_…, sk_live_…, rk_test_… or rk_live_…`);
  return { kind: match[1] === 'sk' ? 'secret' : 'restricted', mode: match[2] as Mode };
}

/**
 * Parses a key definition: `rk_test_name=RULES`, RULES being comma-separated `resource:access`
 * with `*` for every resource and `connect.` before a resource for its Connect permission, e.g.
 * `rk_test_nocharges=*:read,charges:none,connect.*:read`. Unlisted resources get no access.
 */
export function parseKeyDefinition(definition: string): ApiKey {
  const [key, rules = ''] = definition.split('=', 2) as [string, string?];
  const { kind, mode } = keyMode(key);
  const permissions: Partial<Record<Resource, Access>> = {};
  const connectPermissions: Partial<Record<Resource, Access>> = {};
  for (const rule of rules.split(',').map((r) => r.trim()).filter(Boolean)) {
    const [name = '', access = ''] = rule.split(':');
    if (!['none', 'read', 'write'].includes(access)) throw new Error(`key ${key}: "${rule}" needs an access of none, read or write`);
    const connect = name.startsWith('connect.');
    const resource = connect ? name.slice('connect.'.length) : name;
    const target = connect ? connectPermissions : permissions;
    if (resource === '*') Object.assign(target, everything(access as Access));
    else if ((RESOURCES as readonly string[]).includes(resource)) target[resource as Resource] = access as Access;
    else throw new Error(`key ${key}: unknown resource "${resource}" (one of ${RESOURCES.join(', ')}, or *)`);
  }
  return { key, mode, kind, permissions, connectPermissions, status: 'active' };
}

export class KeyRegistry {
  private readonly keys = new Map<string, ApiKey>();

  constructor(definitions: readonly string[] = []) {
    for (const definition of [
      'rk_test_simulator=*:read,connect.*:read',
      'rk_live_simulator=*:read,connect.*:read',
      'sk_test_simulator',
      'sk_live_simulator',
      ...definitions,
    ]) {
      this.add(parseKeyDefinition(definition));
    }
  }

  add(key: ApiKey): void {
    this.keys.set(key.key, key);
  }

  get(key: string): ApiKey | undefined {
    return this.keys.get(key);
  }

  /** The key behind an Authorization header (Bearer, or Basic with the key as user name). */
  authenticate(header: string | undefined): ApiKey {
    const secret = parseAuthorization(header);
    if (!secret) throw errors.noKey();
    const key = this.keys.get(secret);
    if (!key || key.status === 'revoked') throw errors.invalidKey(secret);
    if (key.status === 'expired') throw errors.expiredKey(secret);
    return key;
  }

  setStatus(secret: string, status: ApiKey['status']): void {
    const key = this.keys.get(secret);
    if (!key) throw new Error(`no key ${secret}`);
    key.status = status;
  }
}

function parseAuthorization(header: string | undefined): string | null {
  if (!header) return null;
  const [scheme = '', value = ''] = header.trim().split(/\s+/, 2);
  if (scheme.toLowerCase() === 'bearer') return value || null;
  if (scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    return decoded.split(':')[0] || null;
  }
  return null;
}

/**
 * Throws Stripe's 403 unless the key may use `resource` with `access` on `accountId`.
 * `viaConnect` is true when the request acts for a connected account.
 */
export function authorize(key: ApiKey, resource: Resource, access: Exclude<Access, 'none'>, accountId: string, viaConnect: boolean): void {
  if (key.kind === 'secret') return;
  const connectOnly = resource === 'accounts';
  if (viaConnect) {
    const any = Object.values(key.connectPermissions).some((a) => a !== 'none');
    if (!any) throw errors.noConnectPermission();
  }
  const granted = (viaConnect || connectOnly ? key.connectPermissions : key.permissions)[resource] ?? 'none';
  if (RANK[granted] < RANK[access]) throw errors.permission(key.key, accountId, permissionName(resource, access));
}
