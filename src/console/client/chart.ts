// The time-series chart: uPlot (loaded by its own <script> before this bundle, as the global
// uPlot) drawing outcomes and wins on the left axis and revenue on the right, in UTC.
import type UPlot from "uplot";
import type { SeriesPoint } from "./api.ts";
import { h, replaceChildren } from "./dom.ts";

type UPlotConstructor = typeof UPlot;

const COLORS = { outcomes: "#1d4f91", wins: "#1b6e36", revenue: "#a34700" };
const HEIGHT = 260;

export interface Chart {
  update(points: SeriesPoint[]): void;
  destroy(): void;
}

function uPlotGlobal(): UPlotConstructor | null {
  return (globalThis as unknown as { uPlot?: UPlotConstructor }).uPlot ?? null;
}

function dataOf(points: SeriesPoint[]): UPlot.AlignedData {
  return [
    points.map((p) => Date.parse(p.bucket) / 1000),
    points.map((p) => p.outcomes),
    points.map((p) => p.wins),
    // Only the drawing turns revenue into a float; the table beside the chart keeps the text.
    points.map((p) => Number(p.revenue)),
  ];
}

/** 24-hour UTC ticks: a day's start shows its date, any other tick its time. */
function utcTickLabel(seconds: number): string {
  const iso = new Date(seconds * 1000).toISOString();
  return iso.slice(11, 16) === "00:00" ? iso.slice(5, 10) : iso.slice(11, 16);
}

export function createChart(container: HTMLElement, interval: "hour" | "day"): Chart {
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
      { label: interval === "hour" ? "Hour (UTC)" : "Day (UTC)" },
      { label: "Outcomes", scale: "count", stroke: COLORS.outcomes, width: 2 },
      { label: "Wins", scale: "count", stroke: COLORS.wins, width: 2 },
      { label: "Revenue", scale: "money", stroke: COLORS.revenue, width: 2, dash: [6, 4] },
    ],
    axes: [
      { stroke: "#333", values: (_u, splits) => splits.map(utcTickLabel) },
      { scale: "count", label: "Outcomes, wins", stroke: "#333" },
      { scale: "money", label: "Revenue", side: 1, stroke: "#333", grid: { show: false } },
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
