// The report page script: builds each chart's rows from the shared data (EM_DATA), embeds it
// (EM_CHARTS) with vega-embed, and records how many points it drew.
function emRows(src) {
  const c = EM_DATA.checkpoints, s = EM_DATA.series[src.series], rows = [];
  for (let k = 0; k < s.idx.length; ++k) {
    const i = s.idx[k];
    rows.push({run: c.run[i], params: c.params[i], tokens: c.tokens[i], budget: c.budget[i], step: c.step[i],
               tokens_seen: c.tokens_seen[i], loss: c.loss[i], value: s.value[k],
               compute: 6 * c.params[i] * Math.max(c.tokens_seen[i], 1)});
  }
  return rows;
}
function emAttach(spec, rows) {
  for (const layer of spec.layer || []) if (layer.data && layer.data.name === 'points') layer.data = {values: rows};
  return spec;
}
function emCount(node, name) {
  if (!node) return 0;
  if (node.marktype && node.name === name) return (node.items || []).length;
  let n = 0;
  for (const it of node.items || []) n += emCount(it, name);
  return n;
}
async function emRender() {
  let ok = 0;
  for (const chart of EM_CHARTS) {
    const el = document.getElementById(chart.id);
    try {
      const spec = chart.source ? emAttach(chart.spec, emRows(chart.source)) : chart.spec;
      const res = await vegaEmbed(el, spec, {renderer: 'canvas', actions: false});
      await res.view.runAsync();
      el.setAttribute('data-rendered-points', String(emCount(res.view.scenegraph().root, 'primary_marks')));
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
