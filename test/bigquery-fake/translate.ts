// BigQuery's SQL, as the BigQuery loader writes it, turned into DuckDB's, so that the local
// endpoint can run what the loader sends. It covers the functions and types the loader uses;
// anything else is left as it is, and DuckDB will refuse it loudly.

/** The index just past the parenthesis that closes the one before `open`, respecting nested parentheses and strings. */
function closingParen(sql: string, open: number): number {
  let depth = 1;
  let i = open;
  let quote: string | null = null;
  for (; i < sql.length && depth > 0; i++) {
    const c = sql[i] as string;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
  }
  return i;
}

/** Rewrites every call `NAME(args)` with `replace(args)`, respecting nested parentheses and strings. */
function rewriteCalls(sql: string, name: string, replace: (args: string) => string): string {
  const pattern = new RegExp(`\\b${name}\\s*\\(`, 'gi');
  let out = '';
  let at = 0;
  for (let match = pattern.exec(sql); match; match = pattern.exec(sql)) {
    const open = match.index + match[0].length;
    const i = closingParen(sql, open);
    const args = rewriteAll(sql.slice(open, i - 1));
    out += sql.slice(at, match.index) + replace(args);
    at = i;
    pattern.lastIndex = i;
  }
  return out + sql.slice(at);
}

/** A call's arguments split at its top-level commas. */
function splitArguments(args: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  let quote: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const c = args[i] as string;
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(args.slice(start, i).trim());
      start = i + 1;
    }
  }
  return [...out, args.slice(start).trim()];
}

/** `UNNEST(…) AS name`: BigQuery names the element `name`; DuckDB names the relation so, and wants `name(name)` for the column. */
function nameUnnestedColumns(sql: string): string {
  const pattern = /\bUNNEST\s*\(/gi;
  let out = '';
  let at = 0;
  for (let match = pattern.exec(sql); match; match = pattern.exec(sql)) {
    const end = closingParen(sql, match.index + match[0].length);
    const alias = /^\s+AS\s+([A-Za-z_][A-Za-z0-9_]*)\b(?!\s*\()/i.exec(sql.slice(end));
    if (alias) {
      const afterAlias = end + alias[0].length;
      out += sql.slice(at, afterAlias) + `(${alias[1] as string})`;
      at = afterAlias;
    }
    pattern.lastIndex = end;
  }
  return out + sql.slice(at);
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
  // Days and months (the activity marts): a TIMESTAMP's date is its UTC date; DuckDB's date_trunc gives a TIMESTAMP.
  out = rewriteCalls(out, 'DATE', (args) => `CAST(timezone('UTC', ${args}) AS DATE)`);
  out = rewriteCalls(out, 'DATE_TRUNC', (args) => {
    const [date, part] = splitArguments(args);
    return `CAST(date_trunc('${(part ?? '').toLowerCase()}', ${date ?? ''}) AS DATE)`;
  });
  out = rewriteCalls(out, 'GENERATE_DATE_ARRAY', (args) => `CAST(generate_series(${args}) AS DATE[])`);
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
  return bindParameters(rewriteAsserts(nameUnnestedColumns(rewriteAll(rewriteReferences(singleQuoteStrings(sql))))), params)
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
