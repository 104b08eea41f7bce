// Responses rendered but not yet sent, as Stripe's are between the snapshot of a list page and
// the moment the response leaves: tests hold them, change the data, then release them.

/** Catches the next `remaining` successful responses of an endpoint (of one account, if named). */
export interface HoldRule {
  readonly endpoint: string;
  readonly account: string | null;
  remaining: number;
}

/** A response that was rendered and waits to be sent. */
export interface HeldResponse {
  readonly endpoint: string;
  readonly account: string;
  readonly requestId: string;
  /** The request's path and query. */
  readonly path: string;
  /** The simulated time at which the body was rendered. */
  readonly renderedAt: number;
  /** Writes the response, its `Date` the simulated clock at that moment. */
  readonly send: () => void;
  /** Closes the connection without a response. */
  readonly drop: () => void;
}

export class HeldResponses {
  private rules: HoldRule[] = [];
  private waiting: HeldResponse[] = [];

  /** True while any rule may still catch a response: the only cost a request pays otherwise. */
  get active(): boolean {
    return this.rules.length > 0;
  }

  addRule(endpoint: string, account: string | null, count: number): void {
    this.rules.push({ endpoint, account, remaining: count });
  }

  cancelRules(): void {
    this.rules = [];
  }

  /** Keeps the response if the oldest rule that matches it has some left; false if none does. */
  catch(response: HeldResponse): boolean {
    const rule = this.rules.find((r) => r.endpoint === response.endpoint && (r.account === null || r.account === response.account));
    if (!rule) return false;
    if (--rule.remaining === 0) this.rules = this.rules.filter((r) => r !== rule);
    this.waiting.push(response);
    return true;
  }

  /** Forgets a response whose client has gone: it can never be sent. */
  forget(response: HeldResponse): void {
    this.waiting = this.waiting.filter((r) => r !== response);
  }

  /** Sends the `count` oldest held responses (all by default) and returns them. */
  release(count = Infinity): HeldResponse[] {
    const released = this.waiting.slice(0, count);
    this.waiting = this.waiting.slice(released.length);
    for (const response of released) response.send();
    return released;
  }

  /** Drops every held response and rule: the server is closing. */
  dropAll(): void {
    const dropped = this.waiting;
    this.waiting = [];
    this.rules = [];
    for (const response of dropped) response.drop();
  }

  get held(): readonly HeldResponse[] {
    return this.waiting;
  }

  get activeRules(): readonly Readonly<HoldRule>[] {
    return this.rules;
  }
}
