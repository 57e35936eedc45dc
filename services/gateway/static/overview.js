// The overview's charts (ECharts, vendored): targets achieved against their rate, coverage by township,
// members by earned stars. The figures come in the page itself (#chart-data), no second request.
(function () {
  var data = window.workbench.data('chart-data');
  var pct = window.workbench.pct;
  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) { return; }
    var c = echarts.init(el, null, { renderer: 'canvas' });
    c.setOption(option);
    window.addEventListener('resize', function () { c.resize(); });
  }
  var axisPct = { type: 'value', max: 1, axisLabel: { formatter: pct } };
  chart('chart-targets', {
    tooltip: { valueFormatter: pct }, grid: { left: 8, right: 8, containLabel: true },
    xAxis: { type: 'category', data: data.targets.map(function (t) { return t.name; }), axisLabel: { interval: 0, width: 80, overflow: 'truncate', rotate: window.innerWidth < 600 ? 40 : 0 } },
    yAxis: axisPct,
    series: [{ type: 'bar', name: '完成率', data: data.targets.map(function (t) { return t.achieved; }), itemStyle: { color: '#c8161d' } },
             { type: 'scatter', name: '要求', symbol: 'rect', symbolSize: [30, 3], data: data.targets.map(function (t) { return t.rate; }) }]
  });
  chart('chart-townships', {
    tooltip: { valueFormatter: pct }, grid: { left: 8, right: 16, containLabel: true },
    yAxis: { type: 'category', data: data.townships.map(function (t) { return t.name; }) },
    xAxis: axisPct,
    series: [{ type: 'bar', data: data.townships.map(function (t) { return t.rate; }), itemStyle: { color: '#c8161d' } }]
  });
  chart('chart-stars', {
    tooltip: {}, grid: { left: 8, right: 8, containLabel: true },
    xAxis: { type: 'category', data: data.stars.map(function (s) { return s.stars + '★'; }) },
    yAxis: { type: 'value', minInterval: 1 },
    series: [{ type: 'bar', data: data.stars.map(function (s) { return s.count; }), itemStyle: { color: '#d4a017' } }]
  });
  document.body.setAttribute('data-charts-ready', '1');
})();
