// BigQuery's SQL, as the BigQuery loader writes it, turned into DuckDB's, so that the local
// endpoint can run what the loader sends. It covers the functions and types the loader uses;
// anything else is left as it is, and DuckDB will refuse it loudly.

/**
 * The characters of `text` from `from` on that are outside strings, with the depth of
 * parentheses after each (starting at `depth`); stops once the depth falls to 0.
 */
function* unquoted(text: string, from: number, depth: number): Generator<{ i: number; c: string; depth: number }> {
  let quote: string | null = null;
  for (let i = from; i < text.length; i++) {
    const c = text[i] as string;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    yield { i, c, depth };
    if (depth === 0) return;
  }
}

/**
 * Rewrites every call `NAME(args)` with `replace(args, after)`, respecting nested parentheses and
 * strings; `after` is the text that follows the call, of which `replace` may consume a prefix.
 */
function rewriteCalls(sql: string, name: string, replace: (args: string, after: string) => string | [string, number]): string {
  const pattern = new RegExp(`\\b${name}\\s*\\(`, 'gi');
  let out = '';
  let at = 0;
  for (let match = pattern.exec(sql); match; match = pattern.exec(sql)) {
    const open = match.index + match[0].length;
    let i = sql.length + 1;
    for (const step of unquoted(sql, open, 1)) if (step.depth === 0) i = step.i + 1;
    const args = rewriteAll(sql.slice(open, i - 1));
    const replaced = replace(args, sql.slice(i));
    const [text, consumed] = typeof replaced === 'string' ? [replaced, 0] : replaced;
    out += sql.slice(at, match.index) + text;
    at = i + consumed;
    pattern.lastIndex = at;
  }
  return out + sql.slice(at);
}

/** A call's arguments, split at its top-level commas. */
function splitArguments(args: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (const { i, c, depth } of unquoted(args, 0, 1)) {
    if (c === ',' && depth === 1) {
      parts.push(args.slice(start, i));
      start = i + 1;
    }
  }
  return [...parts, args.slice(start)];
}

function rewriteAll(sql: string): string {
  let out = sql;
  out = rewriteCalls(out, 'JSON_VALUE', (args) => `json_extract_string(${args})`);
  out = rewriteCalls(out, 'SAFE_CAST', (args) => `TRY_CAST(${args})`);
  out = rewriteCalls(out, 'TIMESTAMP_SECONDS', (args) => `to_timestamp(${args})`);
  out = rewriteCalls(out, 'TIMESTAMP_MICROS', (args) => `make_timestamptz(${args})`);
  out = rewriteCalls(out, 'UNIX_SECONDS', (args) => `CAST(epoch(${args}) AS BIGINT)`);
  out = rewriteCalls(out, 'PARSE_JSON', (args) => `CAST(${args} AS JSON)`);
  out = rewriteCalls(out, 'TO_JSON_STRING', (args) => `CAST(${args} AS VARCHAR)`);
  // The JSON functions the staging models use: a value as JSON, and its type as BigQuery names it.
  out = rewriteCalls(out, 'JSON_QUERY', (args) => `json_extract(${args})`);
  out = rewriteCalls(out, 'JSON_TYPE', (args) => `lower(json_type(${args}))`);
  // A JSON list's elements (the MRR models unnest subscription items and discounts).
  out = rewriteCalls(out, 'JSON_QUERY_ARRAY', (args) => `CAST(json_extract(${args}) AS JSON[])`);
  // BigQuery's `UNNEST(list) AS x` names the element x; DuckDB names the table x, and the element by a column list: `AS x(x)`.
  out = rewriteCalls(out, 'UNNEST', (args, after) => {
    const alias = /^\s+AS\s+([A-Za-z_][A-Za-z0-9_]*)\b(?!\s*\()/i.exec(after);
    return alias ? [`unnest(${args})${alias[0]}(${alias[1]})`, alias[0].length] : `unnest(${args})`;
  });
  // Days and months (the activity and MRR marts): BigQuery's DATE and TIMESTAMP are UTC; DuckDB's date_trunc gives a TIMESTAMP.
  out = rewriteCalls(out, 'DATE', (args) => `CAST(timezone('UTC', ${args}) AS DATE)`);
  out = rewriteCalls(out, 'TIMESTAMP', (args) => `CAST(${args} AS TIMESTAMP)`);
  out = rewriteCalls(out, 'DATE_TRUNC', (args) => {
    const [date, part] = splitArguments(args);
    return `CAST(date_trunc('${String(part).trim().toLowerCase()}', ${date}) AS DATE)`;
  });
  out = rewriteCalls(out, 'GENERATE_DATE_ARRAY', (args) => `CAST(generate_series(${args}) AS DATE[])`);
  out = rewriteCalls(out, 'DIV', (args) => {
    const [dividend, divisor] = splitArguments(args);
    return `((${dividend}) // (${divisor}))`;
  });
  out = out.replace(/\bCURRENT_TIMESTAMP\(\)/gi, 'now()');
  out = out.replace(/\bAS\s+(INT64|BOOL|STRING|FLOAT64|NUMERIC|BIGNUMERIC)\b/gi, (_, type: string) => `AS ${duckdbType({ type })}`);
  return out;
}

/** `project.dataset.table` in backticks becomes "dataset"."table" (a DuckDB schema and table). */
function rewriteReferences(sql: string): string {
  return sql.replace(/`([^`]+)`/g, (_, reference: string) => {
    const parts = reference.split('.');
    return parts.slice(-2).map((p) => `"${p}"`).join('.');
  });
}

/** What a BigQuery string's escape stands for, in a DuckDB string ('…'). */
const ESCAPES: Readonly<Record<string, string>> = { "'": "''", '"': '"', '\\': '\\', n: '\n', t: '\t', r: '\r' };

/** In BigQuery "text" is a string, as 'text' is; in DuckDB it would name a column. */
function singleQuoteStrings(sql: string): string {
  let out = '';
  let quote: string | null = null;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i] as string;
    if (quote) {
      if (c === '\\') {
        // BigQuery's escapes in a string; DuckDB's strings take none but the doubled quote.
        const next = sql[++i] ?? '';
        out += quote === '`' ? c + next : (ESCAPES[next] ?? next);
        continue;
      }
      if (c === quote) quote = null;
      if (quote === '"' && c === "'") out += "''";
      else out += quote === null && c === '"' ? "'" : c;
      continue;
    }
    if (c === "'" || c === '"' || c === '`') quote = c;
    out += c === '"' ? "'" : c;
  }
  return out;
}

/** Query parameters become literals (of their type, given by name). */
function bindParameters(sql: string, params: ReadonlyMap<string, string>): string {
  return sql.replace(/@([A-Za-z_][A-Za-z0-9_]*)/g, (_, name: string) => {
    const literal = params.get(name);
    if (literal === undefined) throw new Error(`Query parameter '${name}' not found`);
    return literal;
  });
}

/** `ASSERT condition AS 'message'` fails the script with the message, as DuckDB's error() does. */
function rewriteAsserts(sql: string): string {
  return sql.replace(/\bASSERT\b([\s\S]*?)\bAS\s+('(?:[^']|'')*')\s*;/g, (_, condition: string, message: string) => `SELECT CASE WHEN (${condition}) THEN NULL ELSE error(${message}) END;`);
}

export function toDuckDB(sql: string, params: ReadonlyMap<string, string> = new Map()): string {
  return bindParameters(rewriteAsserts(rewriteAll(rewriteReferences(singleQuoteStrings(sql)))), params)
    .replace(/\bCOMMIT\s+TRANSACTION\b/gi, 'COMMIT')
    .replace(/\bROLLBACK\s+TRANSACTION\b/gi, 'ROLLBACK');
}

/** BigQuery schema types as DuckDB column types. */
export function duckdbType(field: { type: string; mode?: string; fields?: { name: string; type: string; mode?: string }[] }): string {
  const base = (() => {
    switch (field.type.toUpperCase()) {
      case 'STRING':
        return 'VARCHAR';
      case 'INT64':
      case 'INTEGER':
        return 'BIGINT';
      case 'FLOAT64':
      case 'FLOAT':
        return 'DOUBLE';
      case 'BOOL':
      case 'BOOLEAN':
        return 'BOOLEAN';
      case 'TIMESTAMP':
        return 'TIMESTAMPTZ';
      case 'JSON':
        return 'JSON';
      case 'NUMERIC':
      case 'BIGNUMERIC':
        return 'DECIMAL(38, 9)';
      case 'RECORD':
      case 'STRUCT':
        return `STRUCT(${(field.fields ?? []).map((f) => `"${f.name}" ${duckdbType(f)}`).join(', ')})`;
      default:
        throw new Error(`the local BigQuery endpoint has no type ${field.type}`);
    }
  })();
  return field.mode === 'REPEATED' ? `${base}[]` : base;
}
