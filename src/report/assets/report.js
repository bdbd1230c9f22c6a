// The report page script: builds each chart's rows from the shared data (EM_DATA), embeds it
// (EM_CHARTS) with vega-embed, and records how many points (and grid panels) it drew.
function emRows(series) {
  const c = EM_DATA.checkpoints, s = EM_DATA.series[series], rows = [];
  for (let k = 0; k < s.idx.length; ++k) {
    const i = s.idx[k];
    rows.push({run: c.run[i], params: c.params[i], tokens: c.tokens[i], budget: c.budget[i], step: c.step[i],
               tokens_seen: c.tokens_seen[i], loss: c.loss[i], value: s.value[k],
               compute: 6 * c.params[i] * Math.max(c.tokens_seen[i], 1)});
  }
  return rows;
}
// Data named "points" is the chart's source series; "series-<i>" (a grid panel's) is series i.
function emAttach(spec, source) {
  for (const layer of spec.layer || []) {
    const name = layer.data && layer.data.name;
    if (name === 'points') layer.data = {values: emRows(source.series)};
    else if (/^series-\d+$/.test(name || '')) layer.data = {values: emRows(Number(name.slice(7)))};
  }
  for (const panel of spec.concat || []) emAttach(panel, source);
  return spec;
}
// Marks drawn per layer named "primary" (or "primary_<k>", grid panel k).
function emCount(node, counts) {
  if (!node) return counts;
  if (node.marktype && /^primary(_\d+)?_marks$/.test(node.name || '')) {
    counts.set(node.name, (counts.get(node.name) || 0) + (node.items || []).length);
    return counts;
  }
  for (const it of node.items || []) emCount(it, counts);
  return counts;
}
async function emRender() {
  let ok = 0;
  for (const chart of EM_CHARTS) {
    const el = document.getElementById(chart.id);
    try {
      const spec = emAttach(chart.spec, chart.source || {});
      // Without a $schema vega-embed guesses the language, and takes a bare "concat" for Vega.
      const res = await vegaEmbed(el, spec, {mode: 'vega-lite', renderer: 'canvas', actions: false});
      await res.view.runAsync();
      const counts = emCount(res.view.scenegraph().root, new Map());
      let points = 0, panels = 0;
      for (const n of counts.values()) {
        points += n;
        if (n > 0) ++panels;
      }
      el.setAttribute('data-rendered-points', String(points));
      el.setAttribute('data-rendered-panels', String(panels));
      el.setAttribute('data-chart-status', 'ok');
      ++ok;
    } catch (e) {
      el.setAttribute('data-chart-status', 'error');
      el.setAttribute('data-error', String(e && e.message || e));
    }
  }
  document.body.setAttribute('data-charts-ok', String(ok));
  document.body.setAttribute('data-charts-done', String(EM_CHARTS.length));
}
emRender();
