// The README's model reference is what the project's YAML says: generated, never written twice.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readProject } from '../../transforms/project.js';
import { modelReference, withReference } from '../../transforms/reference.js';

describe("the README's model reference", () => {
  it('is the one sql/ gives (npm run models-reference writes it)', () => {
    const readme = readFileSync('README.md', 'utf8');
    expect(readme).toBe(withReference(readme, modelReference(readProject('sql'))));
  });

  it('names every model with its relation, materialization and version, and describes every column', () => {
    const reference = modelReference(readProject('sql'));
    expect(reference).toContain('**stg_stripe__charges** (`stripe_staging.stg_stripe__charges_v1`, incremental; version 1): ');
    expect(reference).toContain('| `amount` | ');
    expect(reference).not.toMatch(/\| `[a-z_]+` \| {2}\|/);
  });
});
