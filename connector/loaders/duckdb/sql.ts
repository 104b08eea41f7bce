// Names and text in DuckDB's SQL.

export function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

export function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
