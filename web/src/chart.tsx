import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { dayToSeconds, formatCount, formatPercent } from './format';

export interface Line {
  label: string;
  /** null: no value that day (a gap in the line). */
  values: (number | null)[];
  color: string;
}

export const COLORS = ['#1d4ed8', '#b45309', '#047857', '#7c3aed'];

/**
 * Lines over calendar days with uPlot. `small` draws a bare sparkline (no axes, legend or cursor). The canvas is
 * hidden from assistive technology behind `label`, so every chart states its point in words or sits by a table.
 */
export function DayChart({
  label,
  days,
  lines,
  percent = false,
  small = false,
}: {
  label: string;
  days: string[];
  lines: Line[];
  percent?: boolean;
  small?: boolean;
}) {
  const frame = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = frame.current;
    if (!element || days.length === 0) return;
    const height = small ? 48 : 260;
    const format = percent ? formatPercent : formatCount;
    const chart = new uPlot(
      {
        width: element.clientWidth || 300,
        height,
        tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), 'Etc/UTC'),
        padding: small ? [4, 2, 4, 2] : undefined,
        legend: { show: !small },
        cursor: small ? { show: false } : { points: { size: 6 } },
        scales: {
          x: { time: true },
          y: { range: (_, min, max) => [Math.min(0, min), Math.max(max, percent ? 0.01 : 1)] },
        },
        axes: small
          ? [{ show: false }, { show: false }]
          : [{}, { size: 56, values: (_, ticks) => ticks.map((tick) => format(tick)) }],
        series: [
          { label: 'Day' },
          ...lines.map((line) => ({
            label: line.label,
            stroke: line.color,
            width: 2,
            points: { show: days.length === 1 },
            value: (_: uPlot, value: number | null) => (value === null ? '—' : format(value)),
          })),
        ],
      },
      [days.map(dayToSeconds), ...lines.map((line) => line.values)],
      element,
    );
    const resize = new ResizeObserver(() => chart.setSize({ width: element.clientWidth, height }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [label, days.join(), JSON.stringify(lines), percent, small]);

  if (days.length === 0) return <p class="muted">No data in this range.</p>;
  return <div ref={frame} class={small ? 'chart chart-small' : 'chart'} role="img" aria-label={label} />;
}
