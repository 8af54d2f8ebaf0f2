// The time-series chart: uPlot (loaded by its own <script> before this bundle, as the global
// uPlot) drawing outcomes and wins on the left axis and revenue on the right, in UTC.
import type UPlot from "uplot";
import type { SeriesPoint } from "./api.ts";
import { h, replaceChildren } from "./dom.ts";

type UPlotConstructor = typeof UPlot;
type Interval = "minute" | "hour" | "day";

const COLORS = { outcomes: "#1d4f91", wins: "#1b6e36", revenue: "#a34700", revenueFill: "rgba(163, 71, 0, 0.12)" };
const HEIGHT = 260;
const X_LABELS: Record<Interval, string> = { minute: "Minute (UTC)", hour: "Hour (UTC)", day: "Day (UTC)" };

export interface Chart {
  update(points: SeriesPoint[]): void;
  destroy(): void;
}

function uPlotGlobal(): UPlotConstructor | null {
  return (globalThis as unknown as { uPlot?: UPlotConstructor }).uPlot ?? null;
}

// Revenue comes first so uPlot draws it first, beneath the lines: the two scales both run from 0
// to their own maximum, so wherever revenue follows the outcomes its line lay exactly on theirs
// and, drawn last and dashed, hid it (seen in the demo, 2026-12-03).
function dataOf(points: SeriesPoint[]): UPlot.AlignedData {
  return [
    points.map((p) => Date.parse(p.bucket) / 1000),
    // Only the drawing turns revenue into a float; the table beside the chart keeps the text.
    points.map((p) => Number(p.revenue)),
    points.map((p) => p.outcomes),
    points.map((p) => p.wins),
  ];
}

/** 24-hour UTC ticks: a day's start shows its date, any other tick its time. */
function utcTickLabel(seconds: number): string {
  const iso = new Date(seconds * 1000).toISOString();
  return iso.slice(11, 16) === "00:00" ? iso.slice(5, 10) : iso.slice(11, 16);
}

/**
 * A y axis as wide as its widest tick label plus its title: uPlot's fixed default (50 px) put
 * the title on top of labels such as "1,000" or "12,345.6" (seen in the demo, 2026-12-03).
 */
function axisSize(self: UPlot, values: string[] | null, axisIdx: number, cycleNum: number): number {
  const axis = self.axes[axisIdx]!;
  // uPlot asks again while the layout converges; the first answer stands (its own example does this).
  if (cycleNum > 1) return (axis as unknown as { _size: number })._size;
  const widest = (values ?? []).reduce((longest, text) => (text.length > longest.length ? text : longest), "");
  self.ctx.font = (axis.font as unknown as [string])[0];
  const textWidth = widest ? self.ctx.measureText(widest).width / devicePixelRatio : 0;
  return Math.ceil((axis.ticks?.size ?? 10) + (axis.gap ?? 5) + textWidth + (axis.labelGap ?? 0) + (axis.labelSize ?? 30));
}

export function createChart(container: HTMLElement, interval: Interval): Chart {
  const UPlotCtor = uPlotGlobal();
  if (!UPlotCtor) {
    replaceChildren(container, h("p", {}, "The chart library did not load; the figures are in the table below."));
    return { update() {}, destroy() {} };
  }
  const width = () => Math.max(280, container.clientWidth);
  const utc = (ts: number) => UPlotCtor.tzDate(new Date(ts * 1000), "Etc/UTC");
  const options: UPlot.Options = {
    width: width(),
    height: HEIGHT,
    tzDate: utc,
    scales: { x: { time: true }, count: { range: (_u, _min, max) => [0, Math.max(1, max)] }, money: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
    series: [
      { label: X_LABELS[interval] },
      { label: "Revenue", scale: "money", stroke: COLORS.revenue, fill: COLORS.revenueFill, width: 1 },
      { label: "Outcomes", scale: "count", stroke: COLORS.outcomes, width: 2 },
      { label: "Wins", scale: "count", stroke: COLORS.wins, width: 2 },
    ],
    axes: [
      { stroke: "#333", values: (_u, splits) => splits.map(utcTickLabel) },
      { scale: "count", label: "Outcomes, wins", stroke: "#333", labelSize: 20, labelGap: 4, size: axisSize },
      { scale: "money", label: "Revenue", side: 1, stroke: "#333", grid: { show: false }, labelSize: 20, labelGap: 4, size: axisSize },
    ],
    legend: { live: true },
  };
  const plot = new UPlotCtor(options, [[], [], [], []], container);
  const resize = new ResizeObserver(() => plot.setSize({ width: width(), height: HEIGHT }));
  resize.observe(container);
  return {
    update(points) {
      plot.setData(dataOf(points));
    },
    destroy() {
      resize.disconnect();
      plot.destroy();
    },
  };
}
