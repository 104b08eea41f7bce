// Fast JSON rendering from Stripe's sample objects. A template is a sample with some top-level
// keys left open; rendering stitches pre-serialised static text around the open values, which is
// many times faster than building and stringifying whole objects, and keeps the sample's field set
// and order.

/** JSON text that is inserted as it is (a nested object rendered by another template). */
export class RawJson {
  constructor(readonly json: string) {}
}

export type TemplateValue = RawJson | string | number | boolean | null | object;

export function toJson(value: TemplateValue | undefined): string {
  // Fast paths for the common small values; JSON.stringify for strings (escaping) and objects.
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    default:
      return value instanceof RawJson ? value.json : JSON.stringify(value);
  }
}

export interface TemplateOptions {
  /** Keys not in the sample that this rendering adds (at the end, in this order). */
  readonly add?: readonly string[];
  /** Keys of the sample that this rendering leaves out. */
  readonly remove?: readonly string[];
}

export class ObjectTemplate<K extends string = string> {
  private readonly staticParts: string[] = [];
  private readonly openKeys: K[] = [];
  readonly keys: readonly string[];

  constructor(sample: Readonly<Record<string, unknown>>, openKeys: readonly K[], options: TemplateOptions = {}) {
    const removed = new Set(options.remove ?? []);
    const keys = [...Object.keys(sample).filter((k) => !removed.has(k)), ...(options.add ?? [])];
    this.keys = keys;
    const open = new Set<string>(openKeys);
    for (const key of openKeys) {
      if (!keys.includes(key)) throw new Error(`template: open key ${key} is not a key of the object`);
    }
    let text = '{';
    keys.forEach((key, index) => {
      text += `${index === 0 ? '' : ','}${JSON.stringify(key)}:`;
      if (open.has(key)) {
        this.staticParts.push(text);
        this.openKeys.push(key as K);
        text = '';
      } else {
        text += JSON.stringify(sample[key]);
      }
    });
    this.staticParts.push(`${text}}`);
  }

  render(values: Readonly<Record<K, TemplateValue>>): string {
    const parts = this.staticParts;
    let out = parts[0] as string;
    for (let i = 0; i < this.openKeys.length; i++) {
      out += toJson(values[this.openKeys[i] as K]) + (parts[i + 1] as string);
    }
    return out;
  }
}
