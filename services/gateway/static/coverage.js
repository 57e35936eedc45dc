// The coverage page's monthly trend (organization and work coverage of the county at each month's end).
(function () {
  var data = window.workbench.data('trend-data'), pct = window.workbench.pct;
  var el = document.getElementById('chart-trend');
  if (el && window.echarts) {
    var c = echarts.init(el);
    c.setOption({
      tooltip: { trigger: 'axis', valueFormatter: pct }, legend: {}, grid: { left: 8, right: 16, containLabel: true },
      xAxis: { type: 'category', data: data.map(function (m) { return m.month; }) },
      yAxis: { type: 'value', max: 1, axisLabel: { formatter: pct } },
      series: [{ name: '组织覆盖率', type: 'line', data: data.map(function (m) { return m.org; }), itemStyle: { color: '#c8161d' } },
               { name: '工作覆盖率', type: 'line', data: data.map(function (m) { return m.work; }), itemStyle: { color: '#d4a017' } }]
    });
    window.addEventListener('resize', function () { c.resize(); });
  }
  document.body.setAttribute('data-charts-ready', '1');
})();
