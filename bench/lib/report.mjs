/** Markdown tables and number formatting for the report. */

export function mdTable(headers, rows) {
  const cells = [headers, ...rows].map((r) => r.map((c) => String(c)));
  const widths = headers.map((_, i) => Math.max(3, ...cells.map((r) => r[i].length)));
  const line = (r) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(cells[0]), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...cells.slice(1).map(line)].join('\n');
}

/** 1234567 → "1,234,567"; fractional below 100. */
export function num(x, digits = 0) {
  if (!Number.isFinite(x)) return 'n/a';
  return x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function ratio(x) {
  return Number.isFinite(x) ? `${x.toFixed(2)}×` : 'n/a';
}

/** A target line: "✔ met" / "✘ missed" with the measured value. */
export function target(label, ok, measured) {
  return `- ${ok ? 'MET   ' : 'MISSED'} ${label} — measured ${measured}`;
}

/** A measured ratio reported beside the targets, with no threshold of its own. */
export function info(label, measured) {
  return `- INFO   ${label} — measured ${measured}`;
}
