// Hand-written SVG bar charts for bench/report.ts: no dependencies, no
// charting service. A chart is a column of panels; each panel compares a few
// implementations on one measure, on its own scale, with an optional goal
// line.

/** Whose figure a bar is: sets its colour. */
export type Kind = "torsion" | "deno" | "node" | "twisted" | "c" | "other";

/** One bar: a label, its value, and whose it is. */
export interface Bar {
  label: string;
  value: number;
  kind: Kind;
}

/** One measure compared across implementations. */
export interface Panel {
  title: string;
  /** Unit shown after each value, e.g. "ns" or "MiB/s". */
  unit: string;
  /** Which way is better, said under the title. */
  better: "lower" | "higher";
  bars: Bar[];
  /** A vertical dashed line at the goal, with its label. */
  goal?: { value: number; label: string };
}

const COLOURS: Record<Kind, string> = {
  torsion: "#2f6fdf",
  deno: "#6a6a6a",
  node: "#3c873a",
  twisted: "#c4631b",
  c: "#8c4bbd",
  other: "#9a9a9a",
};

const WIDTH = 760;
const LABEL_W = 330;
const BAR_W = 300;
const BAR_H = 18;
const GAP = 6;
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

// Splits `text` into lines of at most `width` characters, at spaces.
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(line);
  return lines;
}

/** A figure with three significant digits, thousands separated. */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return "n/a";
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/**
 * Renders panels as one SVG document.
 *
 * @param title The chart's heading.
 * @param note A line under the heading (where the figures come from).
 * @param panels The measures, drawn top to bottom.
 * @returns The SVG text.
 */
export function renderChart(title: string, note: string, panels: Panel[]): string {
  const parts: string[] = [];
  let y = 28;
  parts.push(`<text x="12" y="${y}" font-size="17" font-weight="600">${escape(title)}</text>`);
  y += 18;
  for (const line of wrap(note, 120)) {
    parts.push(`<text x="12" y="${y}" font-size="11" fill="#555">${escape(line)}</text>`);
    y += 14;
  }
  for (const panel of panels) {
    y += 22;
    parts.push(
      `<text x="12" y="${y}" font-size="13" font-weight="600">${escape(panel.title)}` +
        `<tspan dx="6" font-weight="400" fill="#666">(${panel.unit}, ${panel.better} is better)</tspan></text>`,
    );
    y += 8;
    const values = panel.bars.map((b) => b.value).filter(Number.isFinite);
    const max = Math.max(...values, panel.goal?.value ?? 0) * 1.08 || 1;
    const top = y;
    for (const bar of panel.bars) {
      const w = Number.isFinite(bar.value) ? Math.max(1, (bar.value / max) * BAR_W) : 0;
      parts.push(
        `<text x="${LABEL_W - 8}" y="${y + 13}" font-size="12" text-anchor="end">${
          escape(bar.label)
        }</text>`,
        `<rect x="${LABEL_W}" y="${y}" width="${w.toFixed(1)}" height="${BAR_H}" fill="${
          COLOURS[bar.kind]
        }" rx="2"/>`,
        `<text x="${(LABEL_W + w + 6).toFixed(1)}" y="${y + 13}" font-size="12">${
          escape(`${formatValue(bar.value)} ${panel.unit}`)
        }</text>`,
      );
      y += BAR_H + GAP;
    }
    if (panel.goal !== undefined) {
      const x = LABEL_W + (panel.goal.value / max) * BAR_W;
      parts.push(
        `<line x1="${x.toFixed(1)}" y1="${top - 4}" x2="${x.toFixed(1)}" y2="${y - GAP + 4}" ` +
          `stroke="#d62728" stroke-width="1.5" stroke-dasharray="5 3"/>`,
        `<text x="${x.toFixed(1)}" y="${
          y + 10
        }" font-size="11" fill="#d62728" text-anchor="middle">${escape(panel.goal.label)}</text>`,
      );
      y += 14;
    }
  }
  y += 14;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y}" ` +
    `viewBox="0 0 ${WIDTH} ${y}" ${FONT}>\n` +
    `<rect width="100%" height="100%" fill="#fff"/>\n${parts.join("\n")}\n</svg>\n`;
}
