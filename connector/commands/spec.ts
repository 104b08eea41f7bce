// `spec`: the SPEC message; its connectionSpecification is spec.json.
import specification from '../../spec.json' with { type: 'json' };
import type { SpecMessage } from '../protocol/messages.js';

export function specMessage(): SpecMessage {
  return {
    type: 'SPEC',
    spec: {
      documentationUrl: 'https://docs.stripe.com/api',
      connectionSpecification: specification as Record<string, unknown>,
      supportsIncremental: true,
      supported_destination_sync_modes: ['append', 'append_dedup', 'overwrite'],
    },
  };
}
