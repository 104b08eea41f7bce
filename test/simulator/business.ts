// The business behind the data: a discrete-event simulation of each account's customers,
// subscriptions, payments, refunds, disputes and payouts, and of the platform's fees and
// transfers. History and `advance` run the same code, so old and new data look alike, and money
// always agrees: every succeeded charge, refund, dispute, fee, transfer and payout has its balance
// transaction, and payouts sweep exactly the funds that have become available.
import TinyQueue from 'tinyqueue';
import type { Rng } from './random.js';
import type {
  AccountRow,
  AnyRow,
  BalanceTransactionRow,
  CardDetails,
  ChargeRow,
  ContactSnapshot,
  CouponRow,
  CustomerRow,
  FeeDetail,
  InvoiceLine,
  InvoiceRow,
  ObjectRow,
  PaymentIntentRow,
  PriceRow,
  ProductRow,
  SubscriptionDiscount,
  SubscriptionRow,
} from './rows.js';
import { discountIdOf } from './rows.js';
import { SHAPES, type DataShape, type NextArrival } from './shapes.js';
import { AccountState, type AccountProfile, type VersionPeriod } from './store.js';
import { DAY, type ModeWorld, type WorldOptions } from './world.js';

/** Shared by every object without metadata, to keep a million rows small. */
const NO_METADATA: Readonly<Record<string, string>> = Object.freeze({});

/** Calibrated so that the history holds about `objects` objects (see the simulator's tests). */
const OBJECTS_PER_CUSTOMER = 15;
const HOUR = 3600;

const ZERO_DECIMAL = new Set(['jpy', 'krw', 'vnd', 'clp']);

/** What one major unit of each market's currency buys in US dollars, fixed (the simulation does not need markets to move). */
const USD_PER_UNIT: Readonly<Record<string, number>> = { usd: 1, eur: 1.08, gbp: 1.27, jpy: 0.0067 };

/**
 * An amount in minor units of `from` converted into minor units of `to`, with the rate of one
 * major unit (Stripe's `exchange_rate`); null rate when no conversion is needed.
 */
function convert(amount: number, from: string, to: string): { amount: number; rate: number | null } {
  if (from === to) return { amount, rate: null };
  const [fromUsd, toUsd] = [USD_PER_UNIT[from], USD_PER_UNIT[to]];
  if (fromUsd === undefined || toUsd === undefined) throw new Error(`no exchange rate from ${from} to ${to}`);
  const rate = Number((fromUsd / toUsd).toPrecision(6));
  const major = amount / (ZERO_DECIMAL.has(from) ? 1 : 100);
  return { amount: Math.round(major * rate * (ZERO_DECIMAL.has(to) ? 1 : 100)), rate };
}

const FIRST_NAMES = ['Jenny', 'Ana', 'Liam', 'Noah', 'Mia', 'Yuki', 'Omar', 'Lena', 'Ivan', 'Sofia', 'Kai', 'Zoe', 'Arjun', 'Chloe', 'Mateo', 'Emma'];
const LAST_NAMES = ['Rosen', 'Silva', 'Smith', 'Tanaka', 'Haddad', 'Müller', 'Novak', 'Rossi', 'Kim', 'Garcia', 'Dubois', 'Okafor', 'Larsen', 'Patel'];
const CITIES: readonly [string, string][] = [
  ['San Francisco', 'US'],
  ['New York', 'US'],
  ['London', 'GB'],
  ['Berlin', 'DE'],
  ['Paris', 'FR'],
  ['Tokyo', 'JP'],
  ['Toronto', 'CA'],
  ['Sydney', 'AU'],
];
const PRODUCT_NAMES = ['Starter', 'Basic', 'Pro', 'Team', 'Business', 'Enterprise', 'Analytics add-on', 'Extra seats', 'Priority support', 'Storage pack', 'API access', 'Training session', 'Onboarding', 'Consulting hour'];
const CONNECTED_BUSINESSES = ['Bike Shop', 'Yoga Studio', 'Coffee Roasters', 'Book Club', 'Dog Walkers', 'Language School', 'Bakery', 'Climbing Gym', 'Design Studio', 'Tea House', 'Surf School', 'Music Lessons', 'Florist', 'Game Store', 'Photo Lab'];
const ACCOUNT_MARKETS: readonly { country: string; currency: string; delay: number }[] = [
  { country: 'US', currency: 'usd', delay: 2 },
  { country: 'US', currency: 'usd', delay: 2 },
  { country: 'US', currency: 'usd', delay: 2 },
  { country: 'GB', currency: 'gbp', delay: 3 },
  { country: 'DE', currency: 'eur', delay: 7 },
  { country: 'FR', currency: 'eur', delay: 7 },
  { country: 'JP', currency: 'jpy', delay: 4 },
];
const DECLINES: readonly [string, string][] = [
  ['card_declined', 'Your card was declined.'],
  ['insufficient_funds', 'Your card has insufficient funds.'],
  ['expired_card', 'Your card has expired.'],
  ['incorrect_cvc', "Your card's security code is incorrect."],
];

/** What the simulation remembers about one account beyond its objects. */
interface AccountBook {
  readonly account: AccountState;
  readonly customersPerDay: number;
  recurringPrices: PriceRow[];
  oneTimePrices: PriceRow[];
  coupons: CouponRow[];
  unpricedProducts: ProductRow[];
  /** Balance transactions whose funds are not yet available, in order of availability. */
  pendingFunds: BalanceTransactionRow[];
  /** Available funds not yet paid out. */
  availableFunds: BalanceTransactionRow[];
  invoiceCount: number;
  receiptCount: number;
  /** When the next new customer arrives, and the next repeat purchase. */
  readonly nextCustomer: NextArrival;
  readonly nextPurchase: NextArrival;
}

/** Arrivals at random, one at a time. */
const poissonArrivals: NextArrival = (now, meanGap, rng) => now + rng.exponential(meanGap);

interface Task {
  readonly at: number;
  readonly seq: number;
  readonly run: () => void;
}

export class Business {
  private readonly queue = new TinyQueue<Task>([], (a, b) => a.at - b.at || a.seq - b.seq);
  private readonly books = new Map<AccountState, AccountBook>();
  private taskSeq = 0;
  private spanDays = 1;
  /** When the history ends: accounts join at random only after it (the history has exactly K). */
  private historyEnd = 0;
  /** Connected accounts that have joined (or are set to join) so far: the next one's turn for a payout delay. */
  private joinedAccounts = 0;
  /** New customers per day for an account of weight 1, before growth. */
  private customersPerDayPerWeight = 0;
  /** The platform's Connect application, named on charges that carry an application fee. */
  readonly applicationId: string;
  /** How the data departs from the default business (none by default). */
  private shape: Partial<DataShape> = {};

  constructor(
    private readonly m: ModeWorld,
    private readonly rng: Rng,
  ) {
    this.applicationId = rng.id('ca', 32);
  }

  private get now(): number {
    return this.m.world.now;
  }

  private schedule(at: number, run: () => void): void {
    this.queue.push({ at: Math.floor(at), seq: ++this.taskSeq, run });
  }

  /** Runs every task due up to `time`, in time order, moving the clock with them. */
  runUntil(time: number): void {
    for (let task = this.queue.peek(); task && task.at <= time; task = this.queue.peek()) {
      this.queue.pop();
      // Each mode runs its own timeline: the clock follows this mode's tasks, in time order.
      this.m.world.now = task.at;
      task.run();
    }
    this.m.world.now = time;
  }

  /** Sets up the platform and its connected accounts at the start of the history. */
  begin(start: number, options: WorldOptions): void {
    this.spanDays = options.days;
    this.historyEnd = options.now;
    if (options.shape) this.shape = SHAPES[options.shape];
    const end = options.now;
    const connectedWeights = Array.from({ length: options.accounts }, (_, i) => 1 / Math.pow(i + 1, 0.7));
    const joins = connectedWeights.map(() =>
      this.rng.chance(0.6) ? start - this.rng.int(0, 200) * DAY : start + this.rng.next() * Math.max(0, end - start - 15 * DAY),
    );
    // Each account's share of the objects, weighted by size and by how long it has been active.
    const activeDays = (joinedAt: number) => Math.max(1, (end - Math.max(start, joinedAt)) / DAY);
    const totalWeight =
      options.days * (this.shape.platformWeight ?? 1) + connectedWeights.reduce((sum, w, i) => sum + w * activeDays(joins[i] as number), 0);
    this.customersPerDayPerWeight = options.objects / OBJECTS_PER_CUSTOMER / totalWeight;

    this.startAccount(this.m.platform, start);
    // Accounts take their turns for a payout delay in the order they join (ties: in creation order).
    const joinedAt = joins.map((at) => Math.floor(at));
    const turns: number[] = [];
    joinedAt
      .map((_, i) => i)
      .sort((a, b) => (joinedAt[a] as number) - (joinedAt[b] as number) || a - b)
      .forEach((index, turn) => (turns[index] = turn));
    this.joinedAccounts = joinedAt.length;
    connectedWeights.forEach((weight, i) => {
      // The largest connected account is American, like the platform, so that there are transfers.
      const market = i === 0 ? ACCOUNT_MARKETS[0] : undefined;
      const account = this.newConnectedAccount(joinedAt[i] as number, weight, end, turns[i] as number, market);
      this.schedule(Math.max(start, joinedAt[i] as number), () => {
        this.m.connectAccount(account);
        this.startAccount(account, this.now);
      });
    });
    this.schedule(start + DAY, () => this.platformDay());
  }

  /** Makes `count` new connected accounts join between `from` and `to` (for tests). */
  forceNewAccounts(count: number, from: number, to: number): void {
    for (let i = 0; i < count; i++) {
      const at = from + ((i + 1) * (to - from)) / (count + 1);
      this.schedule(at, () => this.joinNewAccount(this.rng.next() * 0.4 + 0.2));
    }
  }

  private joinNewAccount(weight: number): void {
    const account = this.newConnectedAccount(this.now, weight, this.now, this.joinedAccounts++);
    this.m.connectAccount(account);
    this.startAccount(account, this.now);
  }

  /** `turn`: the account's place in the order of joining, which picks its payout delay when the world sets them. */
  private newConnectedAccount(joinedAt: number, weight: number, end: number, turn: number, chosenMarket?: (typeof ACCOUNT_MARKETS)[number]): AccountState {
    const rng = this.rng;
    const market = chosenMarket ?? rng.pick(ACCOUNT_MARKETS);
    const id = rng.id('acct', 16);
    const businessName = `${rng.pick(LAST_NAMES)}'s ${rng.pick(CONNECTED_BUSINESSES)}`;
    const versions: VersionPeriod[] = rng.chance(0.4)
      ? [{ from: 0, version: '2024-06-20' }]
      : rng.chance(0.67)
        ? [{ from: 0, version: '2026-10-28.endive' }]
        : [
            { from: 0, version: '2024-06-20' },
            { from: end + Math.floor((rng.next() - 0.5) * 120 * DAY), version: '2025-03-31.basil' },
          ];
    const profile: AccountProfile = {
      businessName,
      country: market.country,
      currency: market.currency,
      apiVersions: versions,
      payoutDelayDays: this.payoutDelay(turn, market.delay),
      payoutInterval: rng.chance(0.7) ? 'daily' : 'weekly',
      applicationFeeRate: this.shape.applicationFeeRate ?? rng.pick([0, 0.02, 0.05, 0.1]),
      weight,
      bankAccount: rng.id('ba'),
      createdAt: joinedAt,
    };
    const row: AccountRow = {
      stream: 'accounts',
      id,
      created: joinedAt,
      seq: this.m.world.nextSeq(),
      deleted: false,
      metadata: NO_METADATA,
      type: rng.weighted({ standard: 5, express: 3, custom: 2 }),
      country: market.country,
      defaultCurrency: market.currency,
      businessName,
      email: `owner@${businessName.toLowerCase().replace(/[^a-z]+/g, '-')}.example.com`,
      chargesEnabled: true,
      payoutsEnabled: true,
      detailsSubmitted: true,
    };
    return new AccountState(id, this.m.mode, false, profile, row);
  }

  /** The world's payout delays, round-robin by turn; else the market's. */
  private payoutDelay(turn: number, marketDelay: number): number {
    const delays = this.m.world.options.payoutDelayDays;
    return delays ? (delays[turn % delays.length] as number) : marketDelay;
  }

  // --- accounts ---------------------------------------------------------------------------

  private startAccount(account: AccountState, at: number): void {
    const book: AccountBook = {
      account,
      customersPerDay: this.customersPerDayPerWeight * (account.isPlatform ? (this.shape.platformWeight ?? 1) : account.profile.weight),
      recurringPrices: [],
      oneTimePrices: [],
      coupons: [],
      unpricedProducts: [],
      pendingFunds: [],
      availableFunds: [],
      invoiceCount: 0,
      receiptCount: 0,
      nextCustomer: this.shape.arrivals?.() ?? poissonArrivals,
      nextPurchase: this.shape.arrivals?.() ?? poissonArrivals,
    };
    this.books.set(account, book);
    const productCount = this.rng.int(3, 7);
    for (let i = 0; i < productCount; i++) this.createProduct(book, true);
    for (let i = 0, n = this.rng.int(1, 2); i < n; i++) this.createProduct(book, false);
    for (let i = 0, n = this.rng.int(2, 4); i < n; i++) this.createCoupon(book);

    this.schedule(book.nextCustomer(at, DAY / Math.max(1e-9, this.arrivalRate(book)), this.rng), () => this.customerArrives(book));
    this.schedule(book.nextPurchase(at, DAY / Math.max(1e-9, this.arrivalRate(book) * 0.4), this.rng), () => this.repeatPurchase(book));
    this.schedule(this.nextPayoutTime(account, at), () => this.payout(book));
    this.schedule(at + 7 * DAY, () => this.catalogWeek(book));
    if (!account.isPlatform) this.schedule(at + this.rng.int(10, 60) * DAY, () => this.accountChanges(book));
  }

  /** Customers arrive faster as the business grows: from half the mean rate to 1.5 times it. */
  private arrivalRate(book: AccountBook): number {
    const progress = (this.now - this.m.world.start) / (this.spanDays * DAY);
    return book.customersPerDay * (0.5 + Math.min(1.5, Math.max(0, progress)));
  }

  private platformDay(): void {
    // The history has exactly the accounts asked for; afterwards one joins every 45 days or so.
    const joins = this.rng.chance(1 / 45);
    if (joins && this.now > this.historyEnd) this.joinNewAccount(this.rng.next() * 0.4 + 0.2);
    if (new Date(this.now * 1000).getUTCDay() === 1) this.platformTransfers();
    this.schedule(this.now + DAY, () => this.platformDay());
  }

  private accountChanges(book: AccountBook): void {
    const row = book.account.accountRow;
    if (row) {
      if (this.rng.chance(0.5)) {
        this.m.update(book.account, row, { payoutsEnabled: !row.payoutsEnabled }, 'account.updated');
      } else {
        this.m.update(book.account, row, { email: `billing+${this.rng.base62(4).toLowerCase()}@${row.email.split('@')[1]}` }, 'account.updated');
      }
    }
    this.schedule(this.now + this.rng.int(20, 90) * DAY, () => this.accountChanges(book));
  }

  // --- changes asked for by the simulator's change control ----------------------------------

  /** Updates an object as its owner would through the API, keeping what the business offers in step. */
  updateOnRequest(account: AccountState, row: AnyRow, changes: Readonly<Record<string, unknown>>, eventType: string): void {
    this.m.update(account, row, changes as Partial<Omit<AnyRow, 'id' | 'stream' | 'created' | 'seq'>>, eventType, true);
    if ((row.stream === 'products' || row.stream === 'prices') && 'active' in changes) this.refreshOffer(account);
  }

  /** Why Stripe would refuse to delete `row`, or null if it may be deleted. */
  deletionRefusal(account: AccountState, row: ObjectRow): string | null {
    if (row.stream === 'customers' || row.stream === 'coupons') return null;
    if (row.stream === 'products') {
      const priced = account.streams.prices.rows.some((price) => price.product === row.id);
      return priced ? `product ${row.id} has prices, and Stripe deletes only products without prices (archive it instead: "update": {"active": false})` : null;
    }
    const hint = row.stream === 'prices' ? ' (archive a price instead: "update": {"active": false})' : '';
    return `Stripe does not let one delete ${row.stream}${hint}`;
  }

  /** Deletes an object the way the business does (a customer's subscriptions end with it). */
  deleteOnRequest(account: AccountState, row: CustomerRow | ProductRow | CouponRow): void {
    const book = this.books.get(account);
    if (!book) throw new Error(`account ${account.id} runs no business`);
    if (row.stream === 'customers') {
      this.deleteCustomer(book, row);
    } else if (row.stream === 'products') {
      book.unpricedProducts = book.unpricedProducts.filter((p) => p !== row);
      this.m.remove(account, row, 'product.deleted');
    } else {
      book.coupons = book.coupons.filter((c) => c !== row);
      this.m.remove(account, row, 'coupon.deleted');
    }
  }

  /** New purchases use active prices of active products, in the order they were created. */
  private refreshOffer(account: AccountState): void {
    const book = this.books.get(account);
    if (!book) return;
    const offered = account.streams.prices.rows.filter((price) => price.active && account.get('products', price.product)?.active === true);
    book.recurringPrices = offered.filter((price) => price.recurring !== null);
    book.oneTimePrices = offered.filter((price) => price.recurring === null);
  }

  // --- catalog ----------------------------------------------------------------------------

  private amounts(book: AccountBook, kind: 'monthly' | 'one_time'): readonly number[] {
    const zero = ZERO_DECIMAL.has(book.account.profile.currency);
    if (kind === 'monthly') return zero ? [980, 1980, 2980, 4980, 9800] : [900, 1900, 2900, 4900, 9900, 19900];
    return zero ? [1500, 3000, 5000, 12000] : [1500, 2500, 5000, 12000, 45000];
  }

  private createProduct(book: AccountBook, withPrices: boolean): void {
    const account = book.account;
    const productId = this.rng.id('prod', 14);
    const priceIds = withPrices ? [this.rng.id('price'), this.rng.id('price')] : [];
    const hasYearly = withPrices && this.rng.chance(0.4);
    const hasOneTime = withPrices && this.rng.chance(0.3);
    const name = `${this.rng.pick(PRODUCT_NAMES)} ${this.rng.base62(3).toUpperCase()}`;
    const product = this.m.create(account, {
      stream: 'products',
      id: productId,
      created: this.now,
      seq: this.m.world.nextSeq(),
      deleted: false,
      metadata: NO_METADATA,
      name,
      description: withPrices ? `${name} plan` : null,
      active: true,
      defaultPrice: priceIds[0] ?? null,
      updated: this.now,
      kind: 'service',
    }, 'product.created');
    if (!withPrices) {
      book.unpricedProducts.push(product);
      return;
    }
    const monthly = this.rng.pick(this.amounts(book, 'monthly'));
    const newPrice = (id: string, unitAmount: number, recurring: PriceRow['recurring'], nickname: string | null) =>
      this.m.create(account, {
        stream: 'prices',
        id,
        created: this.now,
        seq: this.m.world.nextSeq(),
        deleted: false,
        metadata: NO_METADATA,
        product: productId,
        unitAmount,
        recurring,
        active: true,
        nickname,
        lookupKey: null,
      }, 'price.created');
    book.recurringPrices.push(newPrice(priceIds[0] as string, monthly, { interval: 'month', intervalCount: 1 }, 'Monthly'));
    if (hasYearly) book.recurringPrices.push(newPrice(priceIds[1] as string, monthly * 10, { interval: 'year', intervalCount: 1 }, 'Yearly'));
    if (hasOneTime) book.oneTimePrices.push(newPrice(this.rng.id('price'), this.rng.pick(this.amounts(book, 'one_time')), null, null));
  }

  private createCoupon(book: AccountBook): void {
    const percent = this.rng.chance(0.7);
    const zero = ZERO_DECIMAL.has(book.account.profile.currency);
    const percentOff = percent ? this.rng.pick([10, 15, 20, 25, 50]) : null;
    const amountOff = percent ? null : this.rng.pick(zero ? [500, 1000] : [500, 1000, 2000]);
    const duration = this.rng.weighted({ once: 3, repeating: 4, forever: 1 });
    const coupon = this.m.create(book.account, {
      stream: 'coupons',
      id: this.rng.base62(8).toUpperCase(),
      created: this.now,
      seq: this.m.world.nextSeq(),
      deleted: false,
      metadata: NO_METADATA,
      name: percentOff !== null ? `${percentOff}% off` : `${amountOff} off`,
      percentOff,
      amountOff,
      duration,
      durationInMonths: duration === 'repeating' ? this.rng.pick([3, 6, 12]) : null,
      timesRedeemed: 0,
      valid: true,
      maxRedemptions: null,
    }, 'coupon.created');
    book.coupons.push(coupon);
  }

  private catalogWeek(book: AccountBook): void {
    const account = book.account;
    if (this.rng.chance(0.08)) this.createProduct(book, true);
    if (this.rng.chance(0.05) && book.recurringPrices.length > 2) {
      // Archive a product: it and its prices stop being offered to new customers.
      const price = this.rng.pick(book.recurringPrices);
      const product = account.get('products', price.product);
      if (product && product.active) {
        this.m.update(account, product, { active: false, updated: this.now }, 'product.updated', true);
        for (const list of [book.recurringPrices, book.oneTimePrices]) {
          for (const p of list.filter((p) => p.product === product.id)) {
            this.m.update(account, p, { active: false }, 'price.updated', true);
          }
        }
        book.recurringPrices = book.recurringPrices.filter((p) => p.product !== product.id);
        book.oneTimePrices = book.oneTimePrices.filter((p) => p.product !== product.id);
      }
    }
    if (this.rng.chance(0.05) && book.recurringPrices.length > 0) {
      const price = this.rng.pick(book.recurringPrices);
      this.m.update(account, price, { lookupKey: `${price.nickname ?? 'price'}_${this.rng.base62(4).toLowerCase()}`, metadata: { tier: this.rng.pick(['a', 'b', 'c']) } }, 'price.updated', true);
    }
    if (this.rng.chance(0.05) && book.unpricedProducts.length > 0) {
      // Only a product without prices can be deleted, as in Stripe.
      const product = book.unpricedProducts.shift() as ProductRow;
      this.m.remove(account, product, 'product.deleted');
    }
    if (this.rng.chance(0.05)) this.createProduct(book, false);
    if (this.rng.chance(0.06)) this.createCoupon(book);
    if (this.rng.chance(0.04) && book.coupons.length > 1) {
      const coupon = book.coupons.splice(this.rng.int(0, book.coupons.length - 1), 1)[0] as CouponRow;
      this.m.remove(account, coupon, 'coupon.deleted');
    }
    this.schedule(this.now + 7 * DAY, () => this.catalogWeek(book));
  }

  // --- customers --------------------------------------------------------------------------

  private customerArrives(book: AccountBook): void {
    const customer = this.createCustomer(book);
    if (this.rng.chance(0.55) && book.recurringPrices.length > 0) this.startSubscription(book, customer);
    if (this.rng.chance(0.35)) this.oneOffPurchase(book, customer);
    if (this.rng.chance(0.03)) this.schedule(this.now + this.rng.int(10, 300) * DAY, () => this.deleteCustomer(book, customer));
    if (this.rng.chance(0.2)) this.schedule(this.now + this.rng.int(1, 200) * DAY, () => this.updateCustomer(book, customer));
    this.schedule(book.nextCustomer(this.now, DAY / Math.max(1e-9, this.arrivalRate(book)), this.rng), () => this.customerArrives(book));
  }

  private createCustomer(book: AccountBook): CustomerRow {
    const first = this.rng.pick(FIRST_NAMES);
    const last = this.rng.pick(LAST_NAMES);
    const [city, country] = this.rng.pick(CITIES);
    const hasAddress = this.rng.chance(0.6);
    return this.m.create(book.account, {
      stream: 'customers',
      id: this.rng.id('cus', 14),
      created: this.now,
      seq: this.m.world.nextSeq(),
      deleted: false,
      metadata: this.rng.chance(0.3) ? { signup_source: this.rng.pick(['web', 'ios', 'android', 'sales']) } : {},
      email: this.rng.chance(0.95) ? `${first}.${last}.${this.rng.base62(4)}@example.com`.toLowerCase() : null,
      name: `${first} ${last}`,
      description: null,
      phone: this.rng.chance(0.3) ? `+1555${this.rng.int(1000000, 9999999)}` : null,
      address: hasAddress ? { city, country, line1: `${this.rng.int(1, 999)} Market Street`, postal_code: String(this.rng.int(10000, 99999)) } : null,
      balance: 0,
      delinquent: false,
      discountCoupon: null,
      invoicePrefix: this.rng.base62(8).toUpperCase(),
      nextInvoiceSequence: 1,
    }, 'customer.created');
  }

  private updateCustomer(book: AccountBook, customer: CustomerRow): void {
    if (customer.deleted) return;
    const change = this.rng.weighted({ email: 2, name: 1, metadata: 2 });
    if (change === 'email') {
      this.m.update(book.account, customer, { email: `${this.rng.base62(6)}@example.org`.toLowerCase() }, 'customer.updated', true);
    } else if (change === 'name') {
      this.m.update(book.account, customer, { name: `${this.rng.pick(FIRST_NAMES)} ${this.rng.pick(LAST_NAMES)}` }, 'customer.updated', true);
    } else {
      this.m.update(book.account, customer, { metadata: { ...customer.metadata, crm_id: this.rng.base62(10) } }, 'customer.updated', true);
    }
  }

  private deleteCustomer(book: AccountBook, customer: CustomerRow): void {
    if (customer.deleted) return;
    // Deleting a customer cancels its subscriptions at once, as Stripe does.
    for (const sub of book.account.streams.subscriptions.rows) {
      if (sub.customer === customer.id && isLive(sub)) this.endSubscription(book, sub, 'cancellation_requested');
    }
    this.m.remove(book.account, customer, 'customer.deleted');
  }

  private repeatPurchase(book: AccountBook): void {
    const customers = book.account.streams.customers.rows;
    if (customers.length > 0) {
      const customer = customers[this.rng.int(0, customers.length - 1)] as CustomerRow;
      if (!customer.deleted) this.oneOffPurchase(book, customer);
    }
    this.schedule(book.nextPurchase(this.now, DAY / Math.max(1e-9, this.arrivalRate(book) * 0.4), this.rng), () => this.repeatPurchase(book));
  }

  private oneOffPurchase(book: AccountBook, customer: CustomerRow | null): void {
    const price = book.oneTimePrices.length > 0 && this.rng.chance(0.6) ? this.rng.pick(book.oneTimePrices) : null;
    const amount = price ? price.unitAmount : this.rng.pick(this.amounts(book, 'one_time')) + this.rng.int(0, 40) * 100;
    const product = price ? book.account.get('products', price.product) : undefined;
    const pi = this.createPaymentIntent(book, customer, amount, null, product ? product.name : 'One-time purchase', true);
    if (this.attemptPayment(book, pi, null)) return;
    if (this.rng.chance(0.5)) {
      this.schedule(this.now + this.rng.int(60, 3 * HOUR), () => {
        if (!this.attemptPayment(book, pi, null)) this.cancelPaymentIntent(book, pi);
      });
    } else {
      this.schedule(this.now + DAY, () => this.cancelPaymentIntent(book, pi));
    }
  }

  // --- subscriptions ----------------------------------------------------------------------

  private startSubscription(book: AccountBook, customer: CustomerRow): void {
    const price = this.rng.pick(book.recurringPrices);
    const quantity = this.rng.chance(0.1) ? this.rng.int(2, 5) : 1;
    const coupon = book.coupons.length > 0 && this.rng.chance(0.15) ? this.rng.pick(book.coupons) : null;
    const trial = this.rng.chance(0.25);
    const now = this.now;
    const periodEnd = trial ? now + 14 * DAY : addInterval(now, price);
    const subscriptionId = this.rng.id('sub');
    const sub = this.m.create(book.account, {
      stream: 'subscriptions',
      id: subscriptionId,
      created: now,
      seq: this.m.world.nextSeq(),
      deleted: false,
      metadata: NO_METADATA,
      customer: customer.id,
      items: [{ id: this.rng.id('si', 14), created: now, price: price.id, priceSnapshot: { ...price, rendered: undefined }, quantity }],
      status: trial ? 'trialing' : 'incomplete',
      startDate: now,
      billingCycleAnchor: periodEnd,
      currentPeriodStart: now,
      currentPeriodEnd: periodEnd,
      cancelAtPeriodEnd: false,
      cancelAt: null,
      canceledAt: null,
      endedAt: null,
      cancellationReason: null,
      trialStart: trial ? now : null,
      trialEnd: trial ? periodEnd : null,
      latestInvoice: null,
      discounts: coupon ? [newDiscount(subscriptionId, coupon, now)] : [],
      pausedUntil: null,
    }, 'customer.subscription.created');
    if (trial) {
      this.schedule(periodEnd, () => this.trialEnds(book, sub));
      return;
    }
    const invoice = this.createInvoice(book, sub, now, periodEnd, 'subscription_create');
    if (this.payInvoice(book, invoice)) {
      this.m.update(book.account, sub, { status: 'active', latestInvoice: invoice.id }, 'customer.subscription.updated');
      this.schedule(periodEnd, () => this.renew(book, sub));
      return;
    }
    this.m.update(book.account, sub, { latestInvoice: invoice.id }, 'customer.subscription.updated');
    // A first payment that fails leaves the subscription incomplete for 23 hours.
    if (this.rng.chance(0.5)) {
      this.schedule(now + this.rng.int(1, 20) * HOUR, () => {
        if (sub.status !== 'incomplete') return;
        if (this.retryInvoice(book, invoice, true)) {
          this.m.update(book.account, sub, { status: 'active' }, 'customer.subscription.updated');
          this.schedule(sub.currentPeriodEnd, () => this.renew(book, sub));
        }
      });
    }
    this.schedule(now + 23 * HOUR, () => {
      if (sub.status !== 'incomplete') return;
      this.m.update(book.account, sub, { status: 'incomplete_expired', endedAt: this.now }, 'customer.subscription.updated');
      this.m.update(book.account, invoice, { status: 'void', voidedAt: this.now, nextPaymentAttempt: null }, 'invoice.voided');
    });
  }

  private trialEnds(book: AccountBook, sub: SubscriptionRow): void {
    if (sub.status !== 'trialing') return;
    const account = book.account;
    if (this.rng.chance(0.2)) {
      // No payment method when the trial ends: Stripe pauses the subscription.
      this.m.update(account, sub, { status: 'paused' }, 'customer.subscription.paused');
      if (this.rng.chance(0.5)) this.schedule(this.now + this.rng.int(3, 30) * DAY, () => this.resume(book, sub));
      else this.schedule(this.now + this.rng.int(10, 40) * DAY, () => this.endSubscription(book, sub, 'cancellation_requested'));
      return;
    }
    this.startPeriod(book, sub, this.now, 'subscription_cycle');
  }

  private resume(book: AccountBook, sub: SubscriptionRow): void {
    if (sub.status !== 'paused') return;
    this.m.update(book.account, sub, { status: 'active' }, 'customer.subscription.resumed', true);
    this.startPeriod(book, sub, this.now, 'subscription_cycle');
  }

  /** Opens a new billing period: invoice it, collect, and schedule the next renewal. */
  private startPeriod(book: AccountBook, sub: SubscriptionRow, start: number, reason: InvoiceRow['billingReason']): void {
    const price = book.account.get('prices', (sub.items[0] as { price: string }).price) as PriceRow;
    const end = addInterval(start, price);
    const invoice = this.createInvoice(book, sub, start, end, reason);
    const paid = this.payInvoice(book, invoice);
    const period = { currentPeriodStart: start, currentPeriodEnd: end, latestInvoice: invoice.id };
    if (paid) {
      this.m.update(book.account, sub, { ...period, status: 'active' }, 'customer.subscription.updated');
    } else {
      this.m.update(book.account, sub, { ...period, status: 'past_due' }, 'customer.subscription.updated');
      this.setDelinquent(book, sub.customer, true);
      this.schedule(this.now + 3 * DAY, () => this.dunning(book, sub, invoice, 1));
    }
    if (this.rng.chance(0.03)) {
      this.schedule(this.now + this.rng.next() * (end - start) * 0.5, () => this.requestCancel(book, sub));
    }
    this.schedule(end, () => this.renew(book, sub));
  }

  private renew(book: AccountBook, sub: SubscriptionRow): void {
    if (sub.status !== 'active' && sub.status !== 'past_due') return;
    if (this.now < sub.currentPeriodEnd) return;
    if (sub.cancelAtPeriodEnd || this.rng.chance(0.03)) {
      this.endSubscription(book, sub, 'cancellation_requested');
      return;
    }
    if (this.rng.chance(0.03) && book.recurringPrices.length > 1) {
      const current = book.account.get('prices', (sub.items[0] as { price: string }).price) as PriceRow;
      const others = book.recurringPrices.filter((p) => p.id !== current.id && p.recurring?.interval === current.recurring?.interval);
      if (others.length > 0) {
        const next = this.rng.pick(others);
        const item = sub.items[0] as SubscriptionRow['items'][number];
        const changed = { ...item, price: next.id, priceSnapshot: { ...next, rendered: undefined } };
        this.m.update(book.account, sub, { items: [changed] }, 'customer.subscription.updated', true);
      }
    }
    this.startPeriod(book, sub, sub.currentPeriodEnd, 'subscription_cycle');
  }

  private requestCancel(book: AccountBook, sub: SubscriptionRow): void {
    if (sub.status !== 'active' || sub.cancelAtPeriodEnd) return;
    this.m.update(book.account, sub, { cancelAtPeriodEnd: true, cancelAt: sub.currentPeriodEnd, canceledAt: this.now }, 'customer.subscription.updated', true);
  }

  private endSubscription(book: AccountBook, sub: SubscriptionRow, reason: SubscriptionRow['cancellationReason']): void {
    if (!isLive(sub)) return;
    this.m.update(book.account, sub, {
      status: 'canceled',
      endedAt: this.now,
      canceledAt: sub.canceledAt ?? this.now,
      cancellationReason: reason,
    }, null);
    this.m.emit(book.account, 'customer.subscription.deleted', sub, null, reason === 'cancellation_requested');
  }

  /** Smart retries after a failed renewal: three more attempts, then cancel or leave unpaid. */
  private dunning(book: AccountBook, sub: SubscriptionRow, invoice: InvoiceRow, attempt: number): void {
    if (invoice.status !== 'open') return;
    if (this.retryInvoice(book, invoice, false)) {
      if (sub.status === 'past_due' || sub.status === 'unpaid') {
        this.m.update(book.account, sub, { status: 'active' }, 'customer.subscription.updated');
      }
      this.setDelinquent(book, sub.customer, false);
      return;
    }
    if (attempt < 3) {
      this.schedule(this.now + this.rng.int(2, 5) * DAY, () => this.dunning(book, sub, invoice, attempt + 1));
      return;
    }
    this.m.update(book.account, invoice, { nextPaymentAttempt: null }, 'invoice.updated');
    if (this.rng.chance(0.5)) {
      this.m.update(book.account, invoice, { status: 'uncollectible', markedUncollectibleAt: this.now }, 'invoice.marked_uncollectible');
      this.endSubscription(book, sub, 'payment_failed');
    } else {
      this.m.update(book.account, sub, { status: 'unpaid' }, 'customer.subscription.updated');
      this.schedule(this.now + this.rng.int(30, 120) * DAY, () => this.endSubscription(book, sub, 'cancellation_requested'));
    }
  }

  private setDelinquent(book: AccountBook, customerId: string, delinquent: boolean): void {
    const customer = book.account.get('customers', customerId);
    if (customer && !customer.deleted && customer.delinquent !== delinquent) {
      this.m.update(book.account, customer, { delinquent }, 'customer.updated');
    }
  }

  // --- invoices and payments ----------------------------------------------------------------

  private createInvoice(book: AccountBook, sub: SubscriptionRow, periodStart: number, periodEnd: number, reason: InvoiceRow['billingReason']): InvoiceRow {
    const account = book.account;
    const invoiceId = this.rng.id('in');
    const lines: InvoiceLine[] = sub.items.map((item) => {
      const price = account.get('prices', item.price) as PriceRow;
      const product = account.get('products', price.product);
      return {
        id: this.rng.id('il'),
        price: price.id,
        subscriptionItem: item.id,
        description: `${item.quantity} × ${product ? product.name : 'Subscription'}`,
        quantity: item.quantity,
        amount: price.unitAmount * item.quantity,
        periodStart,
        periodEnd,
      };
    });
    const subtotal = lines.reduce((sum, line) => sum + line.amount, 0);
    // A deleted coupon keeps applying where it was applied, as in Stripe.
    const discount = sub.discounts[0];
    const coupon = discount ? account.get('coupons', discount.coupon) : undefined;
    const discountApplies =
      discount !== undefined &&
      coupon !== undefined &&
      (coupon.duration === 'forever' ||
        (coupon.duration === 'once' && reason === 'subscription_create') ||
        (coupon.duration === 'repeating' && discount.end !== null && periodStart < discount.end));
    const discountAmount = !discountApplies || !coupon
      ? 0
      : coupon.percentOff !== null
        ? Math.round((subtotal * coupon.percentOff) / 100)
        : Math.min(subtotal, coupon.amountOff ?? 0);
    const customer = account.get('customers', sub.customer);
    book.invoiceCount++;
    return this.m.create(account, {
      stream: 'invoices',
      id: invoiceId,
      created: this.now,
      seq: this.m.world.nextSeq(),
      deleted: false,
      metadata: NO_METADATA,
      customer: sub.customer,
      subscription: sub.id,
      billingReason: reason,
      lines,
      periodStart,
      periodEnd,
      subtotal,
      discountAmount,
      couponId: discountApplies && coupon ? coupon.id : null,
      customerDetails: contact(customer),
      status: 'open',
      number: `${customer ? customer.invoicePrefix : 'INV'}-${String(book.invoiceCount).padStart(4, '0')}`,
      amountPaid: 0,
      attemptCount: 0,
      paymentIntent: null,
      charge: null,
      finalizedAt: this.now,
      paidAt: null,
      voidedAt: null,
      markedUncollectibleAt: null,
      nextPaymentAttempt: this.now + HOUR,
      postPaymentCreditNotesAmount: 0,
    }, 'invoice.created', false);
  }

  /** Finalises an invoice and makes the first attempt to collect it. */
  private payInvoice(book: AccountBook, invoice: InvoiceRow): boolean {
    this.m.emit(book.account, 'invoice.finalized', invoice, null, false);
    const total = invoice.subtotal - invoice.discountAmount;
    if (total <= 0) {
      this.m.update(book.account, invoice, { status: 'paid', paidAt: this.now, nextPaymentAttempt: null }, 'invoice.paid');
      return true;
    }
    const description = invoice.billingReason === 'subscription_create' ? 'Subscription creation' : 'Subscription update';
    const pi = this.createPaymentIntent(book, invoice.customer, total, invoice.id, description, false);
    this.m.update(book.account, invoice, { paymentIntent: pi.id }, null);
    return this.retryInvoice(book, invoice, false);
  }

  private retryInvoice(book: AccountBook, invoice: InvoiceRow, byRequest: boolean): boolean {
    const pi = book.account.get('payment_intents', invoice.paymentIntent);
    if (!pi) return false;
    const succeeded = this.attemptPayment(book, pi, invoice, byRequest);
    const charge = pi.latestCharge;
    if (succeeded) {
      this.m.update(book.account, invoice, {
        status: 'paid',
        amountPaid: pi.amount,
        attemptCount: invoice.attemptCount + 1,
        charge,
        paidAt: this.now,
        nextPaymentAttempt: null,
      }, 'invoice.paid');
      this.m.emit(book.account, 'invoice.payment_succeeded', invoice, null, false);
    } else {
      this.m.update(book.account, invoice, {
        attemptCount: invoice.attemptCount + 1,
        charge,
        nextPaymentAttempt: this.now + 3 * DAY,
      }, 'invoice.payment_failed');
    }
    return succeeded;
  }

  private createPaymentIntent(book: AccountBook, customer: CustomerRow | string | null, amount: number, invoice: string | null, description: string | null, byRequest: boolean): PaymentIntentRow {
    const account = book.account;
    const rate = account.profile.applicationFeeRate;
    return this.m.create(account, {
      stream: 'payment_intents',
      id: this.rng.id('pi'),
      created: this.now,
      seq: this.m.world.nextSeq(),
      deleted: false,
      metadata: NO_METADATA,
      customer: typeof customer === 'string' ? customer : customer ? customer.id : null,
      amount,
      invoice,
      description,
      applicationFeeAmount: rate > 0 ? Math.round(amount * rate) : null,
      clientSecretSuffix: this.rng.base62(25),
      status: 'requires_payment_method',
      amountReceived: 0,
      latestCharge: null,
      paymentMethod: null,
      lastErrorCode: null,
      canceledAt: null,
      cancellationReason: null,
    }, 'payment_intent.created', byRequest);
  }

  private cancelPaymentIntent(book: AccountBook, pi: PaymentIntentRow): void {
    if (pi.status === 'succeeded' || pi.status === 'canceled') return;
    this.m.update(book.account, pi, { status: 'canceled', canceledAt: this.now, cancellationReason: 'abandoned' }, 'payment_intent.canceled', true);
  }

  /** One charge attempt on a payment intent, with its balance transaction and fees if it succeeds. */
  private attemptPayment(book: AccountBook, pi: PaymentIntentRow, invoice: InvoiceRow | null, byRequest = true): boolean {
    const account = book.account;
    // A card that has failed once tends to fail again: retries succeed less often.
    const succeeded = this.rng.chance(pi.lastErrorCode ? 0.45 : 0.93);
    const [failureCode, failureMessage] = succeeded ? [null, null] : this.rng.pick(DECLINES);
    const chargeId = this.rng.id('ch');
    const paymentMethod = this.rng.id('pm');
    const card = this.card();
    let balanceTransaction: string | null = null;
    let applicationFee: string | null = null;
    if (succeeded) {
      const zero = ZERO_DECIMAL.has(account.profile.currency);
      const stripeFee = Math.round(pi.amount * (zero ? 0.036 : 0.029)) + (zero ? 0 : 30);
      const feeDetails: FeeDetail[] = [{ amount: stripeFee, type: 'stripe_fee', description: 'Stripe processing fees', application: null }];
      if (pi.applicationFeeAmount) {
        applicationFee = this.rng.id('fee');
        feeDetails.push({ amount: pi.applicationFeeAmount, type: 'application_fee', description: `${this.m.platform.profile.businessName} application fee`, application: this.applicationId });
      }
      const fee = feeDetails.reduce((sum, d) => sum + d.amount, 0);
      balanceTransaction = this.addBalanceTransaction(book, {
        amount: pi.amount,
        fee,
        feeDetails,
        type: 'charge',
        reportingCategory: 'charge',
        source: chargeId,
        description: pi.description,
        delayed: true,
      }).id;
    }
    const charge = this.m.create(account, {
      stream: 'charges',
      id: chargeId,
      created: this.now,
      seq: this.m.world.nextSeq(),
      deleted: false,
      metadata: NO_METADATA,
      customer: pi.customer,
      paymentIntent: pi.id,
      invoice: invoice ? invoice.id : null,
      amount: pi.amount,
      description: pi.description,
      card,
      billingDetails: contact(account.get('customers', pi.customer)),
      paymentMethod,
      applicationFeeAmount: succeeded ? pi.applicationFeeAmount : null,
      riskScore: this.rng.int(0, 99),
      status: succeeded ? 'succeeded' : 'failed',
      failureCode,
      failureMessage,
      balanceTransaction,
      applicationFee,
      amountRefunded: 0,
      refunds: [],
      disputed: false,
      receiptNumber: succeeded ? `${1000 + ++book.receiptCount}-${this.rng.int(1000, 9999)}` : null,
    }, succeeded ? 'charge.succeeded' : 'charge.failed', byRequest);
    if (succeeded) {
      this.m.update(account, pi, { status: 'succeeded', amountReceived: pi.amount, latestCharge: charge.id, paymentMethod, lastErrorCode: null }, 'payment_intent.succeeded');
      if (applicationFee) this.collectApplicationFee(book, charge, applicationFee);
      if (this.rng.chance(0.04)) this.schedule(this.now + this.rng.int(1, 20) * DAY, () => this.refund(book, charge));
      if (this.rng.chance(0.007)) this.schedule(this.now + this.rng.int(5, 60) * DAY, () => this.dispute(book, charge));
    } else {
      this.m.update(account, pi, { status: 'requires_payment_method', latestCharge: charge.id, paymentMethod: null, lastErrorCode: failureCode }, 'payment_intent.payment_failed');
    }
    return succeeded;
  }

  private card(): CardDetails {
    const brand = this.rng.weighted({ visa: 6, mastercard: 3, amex: 1 });
    return {
      brand,
      last4: String(this.rng.int(0, 9999)).padStart(4, '0'),
      expMonth: this.rng.int(1, 12),
      expYear: this.rng.int(2026, 2032),
      country: this.rng.pick(['US', 'US', 'GB', 'DE', 'FR', 'JP', 'CA']),
      fingerprint: this.rng.base62(16),
      funding: this.rng.chance(0.7) ? 'credit' : 'debit',
    };
  }

  private collectApplicationFee(book: AccountBook, charge: ChargeRow, feeId: string): void {
    const platform = this.m.platform;
    const platformBook = this.books.get(platform);
    const amount = charge.applicationFeeAmount ?? 0;
    if (!platformBook || amount <= 0) return;
    // The fee is taken in the charge's currency and lands in the platform's balance converted, as Stripe does.
    const currency = book.account.profile.currency;
    const converted = convert(amount, currency, platform.profile.currency);
    const txn = this.addBalanceTransaction(platformBook, {
      amount: converted.amount,
      exchangeRate: converted.rate,
      fee: 0,
      feeDetails: [],
      type: 'application_fee',
      reportingCategory: 'platform_earning',
      source: feeId,
      description: null,
      delayed: true,
    });
    this.m.create(platform, {
      stream: 'application_fees',
      id: feeId,
      created: this.now,
      seq: this.m.world.nextSeq(),
      deleted: false,
      metadata: NO_METADATA,
      account: book.account.id,
      currency,
      amount,
      charge: charge.id,
      balanceTransaction: txn.id,
      amountRefunded: 0,
    }, 'application_fee.created', false);
  }

  private refund(book: AccountBook, charge: ChargeRow): void {
    const remaining = charge.amount - charge.amountRefunded;
    if (remaining <= 0 || charge.disputed) return;
    const account = book.account;
    const amount = this.rng.chance(0.7) ? remaining : Math.max(1, Math.round(remaining / 2));
    const refundId = this.rng.id('re');
    const txn = this.addBalanceTransaction(book, {
      amount: -amount,
      fee: 0,
      feeDetails: [],
      type: 'refund',
      reportingCategory: 'refund',
      source: refundId,
      description: 'REFUND FOR CHARGE',
      delayed: false,
    });
    const refund = this.m.create(account, {
      stream: 'refunds',
      id: refundId,
      created: this.now,
      seq: this.m.world.nextSeq(),
      deleted: false,
      metadata: NO_METADATA,
      charge: charge.id,
      paymentIntent: charge.paymentIntent,
      amount,
      reason: this.rng.weighted({ requested_by_customer: 6, duplicate: 2, fraudulent: 1 }),
      status: 'succeeded',
      balanceTransaction: txn.id,
    }, 'refund.created');
    this.m.update(account, charge, { amountRefunded: charge.amountRefunded + amount, refunds: [refund.id, ...charge.refunds] }, 'charge.refunded', true);
    const invoice = account.get('invoices', charge.invoice);
    if (invoice && this.rng.chance(0.6)) {
      const line = invoice.lines[0] as InvoiceLine;
      this.m.create(account, {
        stream: 'credit_notes',
        id: this.rng.id('cn'),
        created: this.now,
        seq: this.m.world.nextSeq(),
        deleted: false,
        metadata: NO_METADATA,
        invoice: invoice.id,
        customer: invoice.customer,
        invoiceLine: line.id,
        amount,
        number: `${invoice.number ?? 'INV'}-CN-${String(charge.refunds.length).padStart(2, '0')}`,
        reason: this.rng.weighted({ product_unsatisfactory: 3, order_change: 2, duplicate: 1 }),
        refund: refund.id,
        type: 'post_payment',
        lineId: this.rng.id('cnli'),
        status: 'issued',
        voidedAt: null,
      }, 'credit_note.created');
      this.m.update(account, invoice, { postPaymentCreditNotesAmount: invoice.postPaymentCreditNotesAmount + amount }, 'invoice.updated', true);
    }
  }

  private dispute(book: AccountBook, charge: ChargeRow): void {
    if (charge.disputed || charge.amountRefunded >= charge.amount) return;
    const account = book.account;
    const disputeId = this.rng.id('du');
    const disputeFee = 1500;
    const txn = this.addBalanceTransaction(book, {
      amount: -charge.amount,
      fee: disputeFee,
      feeDetails: [{ amount: disputeFee, type: 'stripe_fee', description: 'Dispute fee', application: null }],
      type: 'adjustment',
      reportingCategory: 'dispute',
      source: disputeId,
      description: `Chargeback withdrawal for ${charge.id}`,
      delayed: false,
    });
    const dispute = this.m.create(account, {
      stream: 'disputes',
      id: disputeId,
      created: this.now,
      seq: this.m.world.nextSeq(),
      deleted: false,
      metadata: NO_METADATA,
      charge: charge.id,
      paymentIntent: charge.paymentIntent,
      amount: charge.amount,
      reason: this.rng.weighted({ fraudulent: 4, product_not_received: 2, duplicate: 1, subscription_canceled: 1, general: 2 }),
      evidenceDueBy: this.now + 14 * DAY,
      network: charge.card.brand,
      status: 'needs_response',
      balanceTransactions: [txn.id],
      hasEvidence: false,
      submissionCount: 0,
    }, 'charge.dispute.created', false);
    this.m.emit(account, 'charge.dispute.funds_withdrawn', dispute, null, false);
    // Stripe sends no charge event when a charge becomes disputed: the flag changes silently.
    this.m.update(account, charge, { disputed: true }, null);
    this.schedule(this.now + this.rng.int(3, 12) * DAY, () => {
      this.m.update(account, dispute, { status: 'under_review', hasEvidence: true, submissionCount: 1 }, 'charge.dispute.updated', true);
      this.schedule(this.now + this.rng.int(20, 60) * DAY, () => this.closeDispute(book, dispute.id, disputeFee));
    });
  }

  private closeDispute(book: AccountBook, disputeId: string, disputeFee: number): void {
    const account = book.account;
    const dispute = account.get('disputes', disputeId);
    if (!dispute) return;
    if (this.rng.chance(0.4)) {
      const txn = this.addBalanceTransaction(book, {
        amount: dispute.amount,
        fee: -disputeFee,
        feeDetails: [{ amount: -disputeFee, type: 'stripe_fee', description: 'Dispute fee refund', application: null }],
        type: 'adjustment',
        reportingCategory: 'dispute_reversal',
        source: dispute.id,
        description: `Chargeback reversal for ${dispute.charge}`,
        delayed: false,
      });
      this.m.update(account, dispute, { status: 'won', balanceTransactions: [...dispute.balanceTransactions, txn.id] }, 'charge.dispute.closed');
      this.m.emit(account, 'charge.dispute.funds_reinstated', dispute, null, false);
    } else {
      this.m.update(account, dispute, { status: 'lost' }, 'charge.dispute.closed');
    }
  }

  // --- money movements ----------------------------------------------------------------------

  private addBalanceTransaction(
    book: AccountBook,
    t: {
      amount: number;
      fee: number;
      feeDetails: FeeDetail[];
      type: string;
      reportingCategory: string;
      source: string | null;
      description: string | null;
      /** Charges and fees wait for the payout delay; withdrawals take effect at once. */
      delayed: boolean;
      /** When the funds came in another currency (see convert). */
      exchangeRate?: number | null;
    },
  ): BalanceTransactionRow {
    const availableOn = t.delayed ? startOfDay(this.now) + book.account.profile.payoutDelayDays * DAY : this.now;
    const row = this.m.create(book.account, {
      stream: 'balance_transactions',
      id: this.rng.id('txn'),
      created: this.now,
      seq: this.m.world.nextSeq(),
      deleted: false,
      metadata: NO_METADATA,
      amount: t.amount,
      fee: t.fee,
      net: t.amount - t.fee,
      type: t.type,
      reportingCategory: t.reportingCategory,
      source: t.source,
      description: t.description,
      availableOn,
      feeDetails: t.feeDetails,
      exchangeRate: t.exchangeRate ?? null,
      payout: null,
    }, null);
    (t.delayed ? book.pendingFunds : book.availableFunds).push(row);
    return row;
  }

  private nextPayoutTime(account: AccountState, after: number): number {
    let next = startOfDay(after) + DAY + 6 * HOUR;
    if (account.profile.payoutInterval === 'weekly') {
      while (new Date(next * 1000).getUTCDay() !== 1) next += DAY;
    }
    return next;
  }

  /** Pays out every available fund, as Stripe's automatic payouts do. */
  private payout(book: AccountBook): void {
    const account = book.account;
    while (book.pendingFunds.length > 0 && (book.pendingFunds[0] as BalanceTransactionRow).availableOn <= this.now) {
      book.availableFunds.push(book.pendingFunds.shift() as BalanceTransactionRow);
    }
    const amount = book.availableFunds.reduce((sum, t) => sum + t.net, 0);
    if (amount > 0) {
      const payoutId = this.rng.id('po');
      const txn = this.addBalanceTransaction(book, {
        amount: -amount,
        fee: 0,
        feeDetails: [],
        type: 'payout',
        reportingCategory: 'payout',
        source: payoutId,
        description: 'STRIPE PAYOUT',
        delayed: false,
      });
      for (const swept of book.availableFunds) swept.payout = payoutId;
      txn.payout = payoutId;
      book.availableFunds = [];
      const payout = this.m.create(account, {
        stream: 'payouts',
        id: payoutId,
        created: this.now,
        seq: this.m.world.nextSeq(),
        deleted: false,
        metadata: NO_METADATA,
        amount,
        arrivalDate: startOfDay(this.now) + 2 * DAY,
        destination: account.profile.bankAccount,
        balanceTransaction: txn.id,
        status: 'pending',
        failureBalanceTransaction: null,
        failureCode: null,
        failureMessage: null,
        reconciliationStatus: 'in_progress',
      }, 'payout.created', false);
      this.schedule(this.now + DAY, () => this.m.update(account, payout, { status: 'in_transit' }, 'payout.updated'));
      this.schedule(payout.arrivalDate + 8 * HOUR, () => {
        if (this.rng.chance(0.01)) {
          const failure = this.addBalanceTransaction(book, {
            amount,
            fee: 0,
            feeDetails: [],
            type: 'payout_failure',
            reportingCategory: 'payout_reversal',
            source: payout.id,
            description: 'Payout failure',
            delayed: false,
          });
          this.m.update(account, payout, { status: 'failed', failureBalanceTransaction: failure.id, failureCode: 'account_closed', failureMessage: 'The bank account has been closed.', reconciliationStatus: 'completed' }, 'payout.failed');
        } else {
          this.m.update(account, payout, { status: 'paid', reconciliationStatus: 'completed' }, 'payout.paid');
        }
      });
    }
    this.schedule(this.nextPayoutTime(account, this.now), () => this.payout(book));
  }

  /** Weekly: the platform pays some connected accounts (revenue shares, bonuses). */
  private platformTransfers(): void {
    const platformBook = this.books.get(this.m.platform);
    if (!platformBook) return;
    for (const account of this.m.connected.values()) {
      const book = this.books.get(account);
      if (!book || !account.connected || account.profile.currency !== this.m.platform.profile.currency) continue;
      if (!this.rng.chance(0.25)) continue;
      const amount = this.rng.int(10, 200) * 100;
      const transferId = this.rng.id('tr');
      const destinationPayment = this.rng.id('py');
      const txn = this.addBalanceTransaction(platformBook, {
        amount: -amount,
        fee: 0,
        feeDetails: [],
        type: 'transfer',
        reportingCategory: 'transfer',
        source: transferId,
        description: null,
        delayed: false,
      });
      this.m.create(this.m.platform, {
        stream: 'transfers',
        id: transferId,
        created: this.now,
        seq: this.m.world.nextSeq(),
        deleted: false,
        metadata: NO_METADATA,
        amount,
        destination: account.id,
        destinationPayment,
        balanceTransaction: txn.id,
        description: 'Weekly revenue share',
        transferGroup: null,
        amountReversed: 0,
      }, 'transfer.created', false);
      this.addBalanceTransaction(book, {
        amount,
        fee: 0,
        feeDetails: [],
        type: 'payment',
        reportingCategory: 'transfer',
        source: destinationPayment,
        description: null,
        delayed: true,
      });
    }
  }
}

function contact(customer: CustomerRow | undefined): ContactSnapshot {
  if (!customer) return { name: null, email: null, phone: null, address: null };
  return { name: customer.name, email: customer.email, phone: customer.phone, address: customer.address };
}

/**
 * The Discount that applies `coupon` to a subscription from `start`; its id is the subscription's
 * own (one discount per subscription), so that invoices can name it. A repeating coupon's months
 * are 30 days here.
 */
function newDiscount(subscriptionId: string, coupon: CouponRow, start: number): SubscriptionDiscount {
  const end = coupon.duration === 'repeating' ? start + (coupon.durationInMonths ?? 0) * 30 * DAY : null;
  return { id: discountIdOf(subscriptionId), coupon: coupon.id, start, end };
}

function isLive(sub: SubscriptionRow): boolean {
  return sub.status !== 'canceled' && sub.status !== 'incomplete_expired';
}

function startOfDay(time: number): number {
  return Math.floor(time / DAY) * DAY;
}

/** The end of a billing period: the same day of the next month or year (clamped), as Stripe bills. */
export function addInterval(start: number, price: PriceRow): number {
  const date = new Date(start * 1000);
  const months = (price.recurring?.interval === 'year' ? 12 : 1) * (price.recurring?.intervalCount ?? 1);
  const day = date.getUTCDate();
  const target = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + months, 1, date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(day, lastDay));
  return Math.floor(target.getTime() / 1000);
}
