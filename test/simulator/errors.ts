// Stripe's error responses, with the statuses, types, codes and messages Stripe uses.

export interface StripeErrorBody {
  readonly type: 'api_error' | 'card_error' | 'idempotency_error' | 'invalid_request_error';
  readonly message: string;
  readonly code?: string;
  readonly param?: string;
  readonly doc_url?: string;
}

/** An error the API answers with; thrown by handlers and turned into a response by the server. */
export class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: StripeErrorBody,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(body.message);
  }

  toJson(requestId: string): string {
    const error = this.status >= 500 || this.body.code === 'rate_limit' || this.body.code === 'lock_timeout'
      ? this.body
      : { ...this.body, request_log_url: `https://dashboard.stripe.com/test/logs/${requestId}` };
    return JSON.stringify({ error });
  }
}

/** How Stripe shows a key in error messages: its prefix and last four characters. */
export function redactKey(key: string): string {
  const prefix = /^(sk|rk|pk)_(test|live)_/.exec(key)?.[0] ?? '';
  return `${prefix}****${key.slice(-4)}`;
}

const docUrl = (code: string) => `https://stripe.com/docs/error-codes/${code.replace(/_/g, '-')}`;

export const errors = {
  noKey: () =>
    new StripeApiError(401, {
      type: 'invalid_request_error',
      message:
        "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
    }),
  invalidKey: (key: string) =>
    new StripeApiError(401, { type: 'invalid_request_error', message: `Invalid API Key provided: ${redactKey(key)}` }),
  expiredKey: (key: string) =>
    new StripeApiError(401, {
      type: 'invalid_request_error',
      code: 'api_key_expired',
      doc_url: docUrl('api_key_expired'),
      message: `Expired API Key provided: ${redactKey(key)}`,
    }),
  permission: (key: string, accountId: string, permission: string) =>
    new StripeApiError(403, {
      type: 'invalid_request_error',
      message: `The provided key '${redactKey(key)}' does not have the required permissions for this endpoint on account '${accountId}'. Having the '${permission}' permission would allow this request to continue.`,
    }),
  noConnectPermission: () =>
    new StripeApiError(403, {
      type: 'invalid_request_error',
      message: 'You passed a restricted API key with the Stripe-Account header, but the restricted API key does not have any Connect permissions.',
    }),
  accountInvalid: (key: string, accountId: string) =>
    new StripeApiError(403, {
      type: 'invalid_request_error',
      code: 'account_invalid',
      doc_url: docUrl('account_invalid'),
      message: `The provided key '${redactKey(key)}' does not have access to account '${accountId}' (or that account does not exist). Application access may have been revoked.`,
    }),
  rateLimit: () =>
    new StripeApiError(429, {
      type: 'invalid_request_error',
      code: 'rate_limit',
      doc_url: docUrl('rate_limit'),
      message: 'Request rate limit exceeded. You can learn more about rate limits here https://stripe.com/docs/rate-limits.',
    }),
  lockTimeout: () =>
    new StripeApiError(
      429,
      {
        type: 'invalid_request_error',
        code: 'lock_timeout',
        doc_url: docUrl('lock_timeout'),
        message:
          'This object cannot be accessed right now because another API request or Stripe process is currently accessing it. If you see this error intermittently, retry the request. If you see this error frequently and are making multiple concurrent requests to a single object, make your requests serially or at a lower rate. See https://stripe.com/docs/rate-limits for more information.',
      },
      { 'Stripe-Should-Retry': 'true' },
    ),
  internal: () =>
    new StripeApiError(500, {
      type: 'api_error',
      message:
        "Sorry, something went wrong. We've already been notified of the problem, but if you need any help, you can reach us at https://support.stripe.com/contact.",
    }),
  unknownUrl: (method: string, path: string) =>
    new StripeApiError(404, {
      type: 'invalid_request_error',
      message: `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
    }),
  unknownParameter: (param: string) =>
    new StripeApiError(400, {
      type: 'invalid_request_error',
      code: 'parameter_unknown',
      doc_url: docUrl('parameter_unknown'),
      param,
      message: `Received unknown parameter: ${param}`,
    }),
  missingParameter: (param: string) =>
    new StripeApiError(400, {
      type: 'invalid_request_error',
      code: 'parameter_missing',
      doc_url: docUrl('parameter_missing'),
      param,
      message: `Missing required param: ${param}.`,
    }),
  emptyParameter: (param: string) =>
    new StripeApiError(400, {
      type: 'invalid_request_error',
      code: 'parameter_invalid_empty',
      doc_url: docUrl('parameter_invalid_empty'),
      param,
      message: `You passed an empty string for '${param}'. We assume empty values are an attempt to unset a parameter; however '${param}' cannot be unset. You should remove '${param}' from your request or supply a non-empty value.`,
    }),
  urlInvalid: (param: string) =>
    new StripeApiError(400, { type: 'invalid_request_error', code: 'url_invalid', doc_url: docUrl('url_invalid'), param, message: 'Not a valid URL' }),
  invalidParameter: (param: string, message: string, code = 'parameter_invalid_integer') =>
    new StripeApiError(400, { type: 'invalid_request_error', code, doc_url: docUrl(code), param, message }),
  noSuchObject: (objectType: string, id: string, param: string, otherMode: 'test' | 'live' | null, status = 404) =>
    new StripeApiError(status, {
      type: 'invalid_request_error',
      code: 'resource_missing',
      doc_url: docUrl('resource_missing'),
      param,
      message: otherMode
        ? `No such ${objectType}: '${id}'; a similar object exists in ${otherMode} mode, but a ${otherMode === 'live' ? 'test' : 'live'} mode key was used to make this request.`
        : `No such ${objectType}: '${id}'`,
    }),
  cannotExpand: (path: string) =>
    new StripeApiError(400, { type: 'invalid_request_error', param: 'expand', message: `This property cannot be expanded (${path}).` }),
};
