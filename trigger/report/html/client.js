/*
 * The HTML report's script: draws every chart of the page's data with uPlot (inlined before this
 * script), on one x axis (seconds since the load started) with a shared cursor, the drill's fault
 * shaded on each. Plain ES2017 for any current browser; no network, no module loader.
 * window.__report exposes the charts for the browser test.
 */
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var sync = uPlot.sync('report');
  var dpr = window.devicePixelRatio || 1;
  var charts = [];

  function seconds(s) {
    if (s == null) return '-';
    var sign = s < 0 ? '-' : '';
    var a = Math.abs(s);
    if (a < 60) return sign + (Math.round(a * 10) / 10) + 's';
    var m = Math.floor(a / 60);
    var r = Math.round(a - 60 * m);
    if (m < 60) return sign + m + 'm' + (r ? r + 's' : '');
    return sign + Math.floor(m / 60) + 'h' + (m % 60 ? (m % 60) + 'm' : '');
  }

  /** A value in a legend: three significant figures or so. */
  function number(v) {
    if (v == null) return '-';
    var a = Math.abs(v);
    return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toFixed(3);
  }

  /** A tick label: as short as it can be (2, not 2.00). */
  function tick(v) {
    return v == null ? '' : String(Number(v.toPrecision(6)));
  }

  /**
   * Values with no neighbour are drawn as points, or a line series would not show them at all.
   * null is a gap; undefined (an x only another run has, after uPlot.join) is not.
   */
  function isolated(u, si, show) {
    if (show) return null;
    var d = u.data[si];
    var out = [];
    var near = function (i, dir) {
      for (var j = i + dir; j >= 0 && j < d.length; j += dir) if (d[j] !== undefined) return d[j];
      return null;
    };
    for (var i = 0; i < d.length; i++) {
      if (d[i] != null && near(i, -1) === null && near(i, 1) === null) out.push(i);
    }
    return out.length ? out : null;
  }

  /** The drills' faults, shaded behind the series, with their names. */
  function shading(shades) {
    return {
      hooks: {
        drawClear: [function (u) {
          var ctx = u.ctx;
          shades.forEach(function (sh) {
            var x0 = u.valToPos(sh.from, 'x', true);
            var x1 = u.valToPos(sh.to, 'x', true);
            ctx.save();
            ctx.fillStyle = 'rgba(213, 94, 0, 0.16)';
            ctx.fillRect(x0, u.bbox.top, Math.max(x1 - x0, 4 * dpr), u.bbox.height);
            ctx.fillStyle = 'rgba(160, 64, 0, 0.7)';
            ctx.fillRect(x0, u.bbox.top, 1 * dpr, u.bbox.height);
            ctx.fillStyle = '#a04000';
            ctx.font = (11 * dpr) + 'px system-ui, sans-serif';
            ctx.textBaseline = 'top';
            ctx.fillText(sh.label, x0 + 4 * dpr, u.bbox.top + 3 * dpr);
            ctx.restore();
          });
        }],
      },
    };
  }

  var stepped = uPlot.paths.stepped({ align: 1 });
  var axisFont = '12px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif';
  var labelFont = '600 12px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif';
  var grid = { stroke: '#e6e9ed', width: 1 };
  var ticks = { stroke: '#c9ced4', width: 1, size: 4 };

  function build(c) {
    var el = document.getElementById('chart-' + c.id);
    var host = el.querySelector('.plot');
    var all = [];
    c.tables.forEach(function (t) { all = all.concat(t.series); });
    var hasRight = all.some(function (s) { return s.right; });
    var series = [{ label: 'time', value: function (u, v) { return seconds(v); } }].concat(all.map(function (s) {
      return {
        label: s.label,
        stroke: s.color,
        width: s.width,
        dash: s.dash || undefined,
        scale: s.right ? 'y2' : 'y',
        paths: s.points ? function () { return null; } : s.stepped ? stepped : undefined,
        points: s.points ? { show: true, size: 6, fill: s.color, stroke: s.color } : { show: false, size: 5, fill: s.color, stroke: s.color, filter: isolated },
        value: function (u, v) { return number(v); },
      };
    }));
    var log = !!c.log;
    var tables = c.tables.map(function (t) {
      return [t.x].concat(t.series.map(function (s) {
        // A log axis has no place for zero: a zero latency is drawn as no point.
        return log && !s.right ? s.values.map(function (v) { return v != null && v > 0 ? v : null; }) : s.values;
      }));
    });
    // Two runs' steps fall on different x values: joined, an x only the other run has is no gap.
    var joined = tables.length === 1 ? tables[0] : uPlot.join(tables);
    var fromZero = function (u, min, max) { return [0, max > 0 ? max * 1.08 : 1]; };
    // A log axis keeps its grid to the decades: nine lines a decade would bury the data.
    var decades = { stroke: grid.stroke, width: 1, filter: function (u, splits) {
      return splits.map(function (v) { return v > 0 && Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9 ? v : null; });
    } };
    var axes = [
      { font: axisFont, labelFont: labelFont, stroke: '#3d444d', grid: grid, ticks: ticks, label: 'time since the load started', labelSize: 18, size: 30,
        values: function (u, splits) { return splits.map(seconds); },
        incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200] },
      { font: axisFont, labelFont: labelFont, stroke: '#3d444d', grid: log ? decades : grid, ticks: ticks, label: c.yLabel, labelSize: 22, size: 56,
        values: function (u, splits) { return splits.map(tick); } },
    ];
    if (hasRight) {
      axes.push({ scale: 'y2', side: 1, font: axisFont, labelFont: labelFont, stroke: '#3d444d', grid: { show: false }, ticks: ticks,
        label: c.y2Label || '', labelSize: 22, size: 52, values: function (u, splits) { return splits.map(tick); } });
    }
    var opts = {
      // Every plot area spans the same pixels, right axis or not, so the shared time axis lines up.
      padding: [10, hasRight ? 0 : 74, 0, 0],
      width: Math.max(320, host.clientWidth),
      height: 230,
      series: series,
      scales: {
        x: { time: false, range: function () { return [data.range[0], data.range[1]]; } },
        y: log ? { distr: 3, log: 10 } : { range: fromZero },
        y2: { range: fromZero },
      },
      axes: axes,
      cursor: { sync: { key: sync.key }, drag: { x: false, y: false } },
      legend: { live: true },
      plugins: [shading(data.shades)],
    };
    var u = new uPlot(opts, joined, host);
    charts.push({ id: c.id, title: c.title, u: u, host: host });
  }

  data.charts.forEach(build);

  var resizing;
  window.addEventListener('resize', function () {
    clearTimeout(resizing);
    resizing = setTimeout(function () {
      charts.forEach(function (c) { c.u.setSize({ width: Math.max(320, c.host.clientWidth), height: 230 }); });
    }, 100);
  });

  window.__report = { range: data.range, charts: charts.map(function (c) { return { id: c.id, title: c.title, u: c.u }; }) };
})();
