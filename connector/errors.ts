// Errors a user can act on: their message is the sentence we show, and they end the run with a
// TRACE error of the given failure type and a non-zero exit.

export type FailureType = 'config_error' | 'system_error' | 'transient_error';

export class UserError extends Error {
  constructor(
    message: string,
    readonly failureType: FailureType = 'config_error',
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** Replaces every API key in a text: the full key, and anything shaped like one. */
export function scrubSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 8) out = out.split(secret).join('[redacted api key]');
  return out.replace(/\b(sk|rk)_(test|live)_[A-Za-z0-9]{8,}\b/g, '$1_$2_[redacted]');
}
