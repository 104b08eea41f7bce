// What a terminal shows after a program wrote to it: text, line breaks, and the cursor and erase
// sequences that log-update writes (cursor up, erase line, column 0). Colours and the cursor's
// visibility change nothing shown.

const SEQUENCE = /\x1b\[([\d;?]*)([A-Za-z])|\r|\n|[^\x1b\r\n]+/g;

/** The lines on the screen, the trailing empty ones left out. */
export function screen(output: string): string[] {
  const lines: string[] = [''];
  let row = 0;
  let column = 0;
  for (const [token, parameter = '', command] of output.matchAll(SEQUENCE)) {
    if (token === '\n') {
      row++;
      column = 0;
      while (lines.length <= row) lines.push('');
    } else if (token === '\r') {
      column = 0;
    } else if (command === 'A') {
      row = Math.max(0, row - Number(parameter || 1));
    } else if (command === 'K' && parameter === '2') {
      lines[row] = '';
    } else if (command === 'G') {
      column = Number(parameter || 1) - 1;
    } else if (command === undefined) {
      const line = (lines[row] ?? '').padEnd(column);
      lines[row] = line.slice(0, column) + token + line.slice(column + token.length);
      column += token.length;
    }
  }
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}
