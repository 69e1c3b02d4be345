// The report page: draws the charts from the Vega-Lite specs in #report-data, shows the failure
// examples and searches the items. Every text from the data is set with textContent, never parsed
// as HTML. When everything is drawn, <html data-ready="true"> (the tests wait for it).
(function () {
  'use strict';

  var data = JSON.parse(document.getElementById('report-data').textContent);
  var kShown = 50;  // search hits listed at once

  // Texts and rules take the page's text colour, so one drawing reads in the light and dark
  // themes and in print; grid lines are a half-transparent grey that works on both backgrounds.
  var ink = 'currentColor';
  var config = {
    background: null,
    font: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
    view: {stroke: null},
    axis: {domainColor: ink, tickColor: ink, labelColor: ink, titleColor: ink, gridColor: '#8884',
           labelFontSize: 11, titleFontSize: 11},
    legend: {labelColor: ink, titleColor: ink},
    title: {color: ink}
  };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function folded(summary, body, open) {
    var d = el('details');
    d.appendChild(el('summary', null, summary));
    d.appendChild(body);
    if (open) d.open = true;
    return d;
  }

  function drawChart(c) {
    var target = document.getElementById(c.id);
    // ast: Vega's expressions run in its interpreter, so the page needs no eval (see the CSP).
    return vegaEmbed(target, c.spec, {renderer: 'svg', mode: 'vega-lite', actions: false, ast: true, config: config})
      .catch(function (e) {
        console.error('chart ' + c.id + ' failed: ' + e);
        target.textContent = 'This chart could not be drawn: ' + e;
      });
  }

  function judgmentHead(j) {
    var parts = [];
    if (j.run) parts.push('run ' + j.run);
    if (j.order) parts.push('order ' + j.order);
    parts.push('sample ' + j.sample);
    var written = j.written !== null && j.written !== j.verdict ? ' (written ' + j.written + ': answers swapped)' : '';
    parts.push(j.verdict !== null ? 'verdict ' + j.verdict + written : 'invalid: ' + j.reason);
    if (j.confidence !== null) parts.push('p = ' + j.confidence.toFixed(3));
    parts.push(j.tokens + ' tokens');
    parts.push(j.finish === 'length' ? 'cut off at max tokens' : 'ended: ' + j.finish);
    return parts.join(' \u00b7 ');
  }

  function renderJudgment(j) {
    var box = el('div', j.verdict === null ? 'judgment invalid' : 'judgment');
    box.appendChild(el('div', 'judgment-head', judgmentHead(j)));
    if (j.error) box.appendChild(el('div', 'error', 'backend error: ' + j.error));
    if (j.raw.join('') === '') return box;
    var pre = el('pre', 'raw');
    // raw is [before, verdict line, after], or [everything] when no verdict line was found.
    j.raw.forEach(function (part, k) {
      pre.appendChild(k === 1 ? el('mark', null, part) : document.createTextNode(part));
    });
    box.appendChild(pre);
    return box;
  }

  function itemFacts(item) {
    var facts = [];
    [['subset', item.subset], ['difficulty', item.difficulty], ['label', item.label],
     ['decision', item.decision], ['status', item.status]].forEach(function (kv) {
      if (kv[1] !== null && kv[1] !== '') facts.push(kv[0] + ': ' + kv[1]);
    });
    return facts;
  }

  function renderItemBody(item, box) {
    if (item.question !== undefined) {
      box.appendChild(folded('Question', el('pre', 'text', item.question)));
      var parts = el('div', 'parts');
      item.parts.forEach(function (p) {
        parts.appendChild(el('h4', null, p.name));
        parts.appendChild(el('pre', 'text', p.text));
      });
      var names = item.parts.map(function (p) { return p.name; });
      box.appendChild(folded(names.length > 3 ? names.length + ' steps' : names.join(', '), parts));
    }
    item.judgments.forEach(function (j) { box.appendChild(renderJudgment(j)); });
  }

  function renderItem(item) {
    var box = el('article', 'item');
    var head = el('div', 'item-head');
    head.appendChild(el('span', 'item-id', item.id));
    itemFacts(item).forEach(function (f) { head.appendChild(el('span', 'item-fact', f)); });
    box.appendChild(head);
    renderItemBody(item, box);
    return box;
  }

  // A search hit: one line, its body drawn only when opened.
  function renderHit(item) {
    var d = el('details', 'hit');
    d.appendChild(el('summary', null, item.id + '  \u2014  ' + itemFacts(item).join(' \u00b7 ')));
    d.addEventListener('toggle', function () {
      if (d.open && d.childNodes.length === 1) renderItemBody(item, d);
    });
    return d;
  }

  function showExamples(byId) {
    var root = document.getElementById('examples-root');
    if (!data.examples.length || !data.examples[0].ids.length) {
      root.appendChild(el('p', 'note', 'No failures to show.'));
      return;
    }
    data.examples.forEach(function (group) {
      root.appendChild(el('h3', null, group.kind + ' (' + group.count + (group.count === 1 ? ' item' : ' items') +
        (group.count > group.ids.length ? ', ' + group.ids.length + ' shown' : '') + ')'));
      group.ids.forEach(function (id) { root.appendChild(renderItem(byId[id])); });
    });
  }

  function searchText(item) {
    var texts = [item.id].concat(itemFacts(item));
    if (item.question !== undefined) {
      texts.push(item.question);
      item.parts.forEach(function (p) { texts.push(p.text); });
    }
    item.judgments.forEach(function (j) { texts.push(j.raw.join('')); });
    return texts.join('\n').toLowerCase();
  }

  function setUpSearch() {
    var input = document.getElementById('search');
    var count = document.getElementById('search-count');
    var results = document.getElementById('search-results');
    var index = data.items.map(searchText);
    function run() {
      var q = input.value.trim().toLowerCase();
      var hits = [];
      for (var i = 0; i < index.length; ++i) if (!q || index[i].indexOf(q) !== -1) hits.push(i);
      var text = q ? hits.length + ' of ' + index.length + ' items match' : index.length + ' items';
      if (hits.length > kShown) text += '; the first ' + kShown + ' are listed';
      count.textContent = text + '.';
      results.replaceChildren.apply(results, hits.slice(0, kShown).map(function (k) { return renderHit(data.items[k]); }));
    }
    input.addEventListener('input', run);
    run();
  }

  var byId = {};
  data.items.forEach(function (it) { byId[it.id] = it; });
  showExamples(byId);
  setUpSearch();
  Promise.all(data.charts.map(drawChart)).then(function () {
    document.documentElement.setAttribute('data-ready', 'true');
  });
})();
