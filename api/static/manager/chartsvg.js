/** Drawing a trend chart as SVG, node by node: the y scale and its unit, gridlines, the days,
 * a legend, a line per series with gaps where a day has no value, and a summary for screen readers. */
import { count, dayLabel, duration, isNum, num, pct } from "./format.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const SERIES_COLOURS = ["#1f5f8b", "#c2620a", "#2d6a45", "#7a4fa0"];
const SERIES_DASHES = ["", "7 4", "2 3", "9 3 2 3"];

function svgEl(tag, attributes = {}, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null && value !== "") node.setAttribute(name, String(value));
  }
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

/** How a chart's values read: the scale of the y axis, its title, and the text of one value. */
export function chartUnit(chart, max) {
  if (chart.kind === "rate") {
    return { factor: 100, axis: chart.axis || "%", fixedTop: 100, tick: (v) => `${num(v)}%`, text: (v) => pct(v) };
  }
  if (chart.kind === "duration") {
    const hours = max >= 7200;
    return { factor: hours ? 1 / 3600 : 1 / 60, axis: hours ? "hours" : "minutes", tick: (v) => num(v, 2),
      text: duration };
  }
  return { factor: 1, axis: chart.axis || "count", integer: true, tick: (v) => num(v, 2), text: count };
}

/** A round top for the y axis and a step giving about four gridlines. */
function niceScale(max, integer) {
  if (!(max > 0)) return integer ? { top: 4, step: 1 } : { top: 1, step: 0.25 };
  const raw = max / 4;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / magnitude;
  let step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10) * magnitude;
  if (integer) step = Math.max(1, Math.ceil(step));
  return { top: Math.ceil(max / step - 1e-9) * step, step };
}

/** Up to `most` evenly spread indexes out of n, always the first and the last. */
function tickIndexes(n, most) {
  if (n <= most) return Array.from({ length: n }, (_, i) => i);
  const out = new Set();
  for (let k = 0; k < most; k += 1) out.add(Math.round((k * (n - 1)) / (most - 1)));
  return [...out];
}

/** What the chart shows, in words: its aria-label. */
function chartSummary(chart, days, lines, unit) {
  const parts = [`${chart.title}, daily from ${dayLabel(days[0])} to ${dayLabel(days[days.length - 1])}.`];
  for (const line of lines) {
    if (line.failed) {
      parts.push(`${line.label}: could not be loaded.`);
      continue;
    }
    const known = [];
    line.values.forEach((value, index) => { if (value !== null) known.push([value, index]); });
    if (!known.length) {
      parts.push(`${line.label}: no data.`);
      continue;
    }
    const values = known.map(([value]) => value);
    const [lastValue, lastIndex] = known[known.length - 1];
    const gaps = days.length - known.length;
    parts.push(`${line.label}: from ${unit.text(Math.min(...values))} to ${unit.text(Math.max(...values))}, `
      + `latest ${unit.text(lastValue)} on ${dayLabel(days[lastIndex])}`
      + `${gaps ? `, ${gaps} ${gaps === 1 ? "day" : "days"} without data` : ""}.`);
  }
  return parts.join(" ");
}

/** One chart as an SVG image: axes, legend, and a line (with dots) per series. */
export function chartSvg(chart, days, lines) {
  const W = 640;
  const H = 270;
  const M = { top: 40, right: 20, bottom: 48, left: 62 };
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const known = lines.flatMap((line) => line.values).filter(isNum);
  const max = known.length ? Math.max(...known) : 0;
  const unit = chartUnit(chart, max);
  const scale = unit.fixedTop ? { top: unit.fixedTop, step: 25 } : niceScale(max * unit.factor, unit.integer);
  const n = days.length;
  const round = (v) => Math.round(v * 10) / 10;
  const x = (i) => round(M.left + (n === 1 ? plotW / 2 : (i * plotW) / (n - 1)));
  const y = (v) => round(M.top + plotH - Math.min(1, Math.max(0, (v * unit.factor) / scale.top)) * plotH);

  const root = svgEl("svg", {
    class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": chartSummary(chart, days, lines, unit),
    "data-testid": "chart", "data-chart": chart.key, preserveAspectRatio: "xMidYMid meet", focusable: "false",
  });

  // Horizontal gridlines with the y axis values.
  const grid = svgEl("g", { class: "grid" });
  const steps = Math.round(scale.top / scale.step);
  for (let k = 0; k <= steps; k += 1) {
    const value = k * scale.step;
    const yy = round(M.top + plotH - (value / scale.top) * plotH);
    grid.append(svgEl("line", { x1: M.left, x2: M.left + plotW, y1: yy, y2: yy, class: k ? "gridline" : "axis" }));
    grid.append(svgEl("text", { x: M.left - 8, y: yy + 4, "text-anchor": "end", class: "tick" }, unit.tick(value)));
  }
  root.append(grid);

  // The y axis title, turned on its side.
  const middle = M.top + plotH / 2;
  root.append(svgEl("text", {
    x: 14, y: middle, transform: `rotate(-90 14 ${middle})`, "text-anchor": "middle", class: "axis-title",
  }, unit.axis));

  // The x axis: some days, and its title.
  const xAxis = svgEl("g", { class: "x-axis" });
  for (const i of tickIndexes(n, 7)) {
    const xx = x(i);
    xAxis.append(svgEl("line", { x1: xx, x2: xx, y1: M.top + plotH, y2: M.top + plotH + 5, class: "axis" }));
    const anchor = n > 1 && i === 0 ? "start" : n > 1 && i === n - 1 ? "end" : "middle";
    xAxis.append(svgEl("text", { x: xx, y: M.top + plotH + 19, "text-anchor": anchor, class: "tick" },
      dayLabel(days[i], false)));
  }
  xAxis.append(svgEl("text", { x: M.left + plotW / 2, y: H - 6, "text-anchor": "middle", class: "axis-title" }, "Day"));
  root.append(xAxis);

  // The legend, along the top.
  const legend = svgEl("g", { class: "legend" });
  let lx = M.left;
  lines.forEach((line, i) => {
    legend.append(svgEl("line", {
      x1: lx, x2: lx + 22, y1: 14, y2: 14, stroke: SERIES_COLOURS[i % SERIES_COLOURS.length], "stroke-width": 3,
      "stroke-dasharray": SERIES_DASHES[i % SERIES_DASHES.length],
    }));
    const label = line.failed ? `${line.label} (not loaded)` : line.label;
    legend.append(svgEl("text", { x: lx + 28, y: 18, class: "legend-text" }, label));
    lx += 28 + label.length * 7 + 20;
  });
  root.append(legend);

  // The lines: a gap wherever a day has no value; a dot on each day (or on a lone one).
  lines.forEach((line, i) => {
    const colour = SERIES_COLOURS[i % SERIES_COLOURS.length];
    const group = svgEl("g", { class: "series" });
    let d = "";
    let run = 0;
    line.values.forEach((value, j) => {
      if (value === null) {
        run = 0;
        return;
      }
      d += `${run ? "L" : "M"}${x(j)} ${y(value)} `;
      run += 1;
    });
    if (d) {
      group.append(svgEl("path", {
        d: d.trim(), fill: "none", stroke: colour, "stroke-width": 2, "stroke-linejoin": "round",
        "stroke-linecap": "round", "stroke-dasharray": SERIES_DASHES[i % SERIES_DASHES.length],
      }));
    }
    line.values.forEach((value, j) => {
      if (value === null) return;
      const alone = (j === 0 || line.values[j - 1] === null) && (j === n - 1 || line.values[j + 1] === null);
      if (n > 62 && !alone) return;
      const dot = svgEl("circle", { cx: x(j), cy: y(value), r: alone ? 3.5 : 2.5, fill: colour });
      dot.append(svgEl("title", {}, `${dayLabel(days[j])} — ${line.label}: ${unit.text(value)}`));
      group.append(dot);
    });
    root.append(group);
  });
  return root;
}
