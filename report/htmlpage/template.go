package htmlpage

// pageTemplate is the page. Everything it shows comes in through the view
// as text, and html/template escapes it for where it lands (element text,
// attribute value): a description of "<script>" from the switch or the
// file is shown, never run. The Content-Security-Policy forbids any
// script and any fetch besides: the page needs neither, and a mistake in
// the escaping would still run nothing.
const pageTemplate = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="ensbulk summary --html">
<title>{{.Title}}</title>
<style>
:root { --ok: #2e7d32; --bad: #c62828; --muted: #666; --line: #ddd; --bar: #1565c0; --p95: #c62828; --p50: #1565c0; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; margin: 1.5rem auto; max-width: 60rem; padding: 0 1rem; color: #222; line-height: 1.4; }
h1 { font-size: 1.4rem; margin-bottom: .2rem; overflow-wrap: anywhere; }
h2 { font-size: 1.15rem; border-bottom: 1px solid var(--line); padding-bottom: .2rem; margin-top: 2rem; }
h3 { font-size: 1rem; margin: 1.2rem 0 .3rem; overflow-wrap: anywhere; }
table { border-collapse: collapse; margin: .4rem 0; font-size: .9rem; }
th, td { border-bottom: 1px solid var(--line); padding: .2rem .6rem; text-align: left; vertical-align: top; }
th { font-weight: 600; background: #f6f6f6; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
td.v { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; white-space: pre-wrap; overflow-wrap: anywhere; max-width: 24rem; }
.missing, .muted, .more { color: var(--muted); font-style: italic; }
.st-bad { color: var(--bad); font-weight: 600; }
.st-ok { color: var(--ok); }
code.cmd { display: block; background: #f4f4f4; border: 1px solid var(--line); padding: .4rem .6rem; white-space: pre-wrap; overflow-wrap: anywhere; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: .5rem 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
svg { display: block; max-width: 100%; height: auto; }
svg .axis { stroke: #999; stroke-width: 1; }
svg .grid { stroke: #eee; stroke-width: 1; }
svg text { font-size: 11px; fill: #555; }
svg rect.bar { fill: var(--bar); }
svg polyline { fill: none; stroke-width: 2; }
svg polyline.p50 { stroke: var(--p50); }
svg polyline.p95 { stroke: var(--p95); stroke-dasharray: 4 3; }
svg circle.p50 { fill: var(--p50); }
svg circle.p95 { fill: var(--p95); }
.legend span { margin-right: 1rem; }
.legend .p50 { color: var(--p50); }
.legend .p95 { color: var(--p95); }
.arrow { color: var(--muted); padding: 0 .3rem; }
@media print {
  body { max-width: none; margin: 0; font-size: 10pt; color: #000; }
  h2 { break-after: avoid; }
  table, svg, dl.facts, .chart { break-inside: avoid; }
  th { background: none; }
  code.cmd { background: none; }
  a { color: inherit; text-decoration: none; }
}
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="muted">Made by <code>ensbulk summary --html</code> from the report and its sidecar. No password or token is ever recorded.</p>

<h2 id="identity">Run</h2>
<dl class="facts">
{{- range .Identity}}
<dt>{{.Label}}</dt><dd data-testid="id-{{.ID}}"{{if .Missing}} class="missing"{{end}}>{{.Value}}</dd>
{{- end}}
<dt>outcome</dt><dd data-testid="outcome">{{.Outcome}}</dd>
<dt>exit code</dt><dd data-testid="exit">{{.Exit}}</dd>
</dl>
{{- range .Next}}
<p>{{.Text}}</p>
{{- if .Command}}<code class="cmd" data-testid="next-command">{{.Command}}</code>{{end}}
{{- end}}

<h2 id="counts">Rows by status</h2>
<table data-testid="status-table">
<thead><tr><th>status</th><th class="n">rows</th></tr></thead>
<tbody>
{{- range .Statuses}}
<tr><td class="{{if .Success}}st-ok{{else if .N}}st-bad{{end}}">{{.Status}}</td><td class="n" data-testid="count-{{.Status}}">{{.Count}}</td></tr>
{{- end}}
<tr><th>rows in all</th><th class="n" data-testid="rows-total">{{.Total}}</th></tr>
</tbody>
</table>
{{- with .Plan}}
<h3>Plan</h3>
<table data-testid="plan-counts">
<tbody>
<tr><td>would change</td><td class="n" data-testid="plan-change">{{.Change}}</td></tr>
<tr><td>change nothing (unchanged)</td><td class="n" data-testid="plan-unchanged">{{.Unchanged}}</td></tr>
<tr><td>invalid</td><td class="n" data-testid="plan-invalid">{{.Invalid}}</td></tr>
<tr><td>other (failed, error, skipped)</td><td class="n" data-testid="plan-other">{{.Other}}</td></tr>
</tbody>
</table>
{{- end}}

<h2 id="timeline">Timeline</h2>
{{- if .Timed}}
<p class="muted">Each bar is {{.Width}}: the rows whose result was written then (the report's <code>time</code> column), and the latency of those that sent a request (<code>duration_ms</code>, every attempt of the row). Times are UTC.</p>
<div class="chart">
<h3>Rows done per second</h3>
{{template "chart" .Rate}}
<h3>Latency</h3>
<p class="legend"><span class="p50">━ median</span><span class="p95">╍ 95th percentile</span></p>
{{template "chart" .LatLine}}
</div>
{{- else}}
<p class="muted">The report's rows have no time: no timeline.</p>
{{- end}}
{{- if .Latency}}
<h3>Latency of the requests</h3>
<dl class="facts">
{{- range .Latency}}
<dt>{{.Label}}</dt><dd data-testid="{{.ID}}">{{.Value}}</dd>
{{- end}}
</dl>
<div class="chart">{{template "chart" .LatHist}}</div>
<p class="muted">Percentiles are read from a histogram with 16 bins per doubling: within 3% of the exact value.</p>
{{- end}}

<h2 id="changes">Changes by column</h2>
{{- if .Columns}}
<p class="muted">The most frequent old → new pairs of each column, from the report's <code>changes</code> column (what the read before the update found). A PIN's values are never recorded.</p>
{{- range .Columns}}
<h3>{{.Name}} <span class="muted">({{.Total}} changes)</span></h3>
<table data-testid="column-{{.Name}}">
<thead><tr><th>old</th><th></th><th>new</th><th class="n">rows</th></tr></thead>
<tbody>
{{- range .Pairs}}
{{- if .Secret}}
<tr><td colspan="3" class="muted">changed (the value is never recorded)</td><td class="n">{{.Count}}</td></tr>
{{- else}}
<tr><td class="v{{if .Unknown}} muted{{end}}">{{if .Unknown}}not shown by the read{{else}}{{.Old}}{{end}}</td><td class="arrow">→</td><td class="v">{{.New}}</td><td class="n">{{.Count}}</td></tr>
{{- end}}
{{- end}}
{{- if .More}}
<tr><td colspan="4" class="more">{{.More}}</td></tr>
{{- end}}
{{- if .Approx}}
<tr><td colspan="4" class="more">more distinct pairs than the page keeps count of: a count shown as a range is at least its first number and at most its second</td></tr>
{{- end}}
</tbody>
</table>
{{- end}}
{{- if .OtherCols}}<p class="more">{{.OtherCols}}</p>{{end}}
{{- else}}
<p class="muted">The report records no changes (a run with <code>--no-read</code>, a validation, or nothing to change).</p>
{{- end}}

<h2 id="customers">Rows by customer</h2>
<table data-testid="customer-table">
<thead><tr><th>customer</th>{{range .Statuses2}}<th class="n">{{.}}</th>{{end}}<th class="n">rows</th></tr></thead>
<tbody>
{{- range .Customers}}
<tr><td class="{{if .Other}}more{{else}}v{{end}}">{{if and (not .Other) (eq .Customer "")}}(the user's own){{else}}{{.Customer}}{{end}}</td>{{range .Counts}}<td class="n">{{.}}</td>{{end}}<td class="n">{{.Total}}</td></tr>
{{- end}}
</tbody>
</table>
{{- if .CustMore}}<p class="more">{{.CustMore}}</p>{{end}}

<h2 id="failures">Failures</h2>
{{- if .Failures}}
<table data-testid="failure-table">
<thead><tr><th class="n">rows</th><th>status</th><th>code</th><th>message</th><th>row numbers</th></tr></thead>
<tbody>
{{- range .Failures}}
<tr><td class="n" data-testid="failure-count">{{.Count}}</td><td class="st-bad">{{.Status}}</td><td>{{.Code}}</td><td class="v" data-testid="failure-message">{{.Message}}</td><td>{{.Rows}}</td></tr>
{{- end}}
</tbody>
</table>
{{- if .FailMore}}<p class="more" data-testid="failures-more">{{.FailMore}}</p>{{end}}
{{- else}}
<p class="muted">No row failed.</p>
{{- end}}

{{- if .PlanRows}}
<h2 id="plan">What the plan would change, per mailbox</h2>
{{- range .PlanRows}}
<h3>mailbox <span class="v">{{.Mailbox}}</span>{{if .Customer}} <span class="muted">customer {{.Customer}}</span>{{end}} <span class="muted">row {{.Row}}</span></h3>
<table data-testid="plan-mailbox">
<tbody>
{{- range .Changes}}
<tr><td>{{.Field}}</td>{{if .Secret}}<td colspan="3" class="muted">changed (the value is never recorded)</td>{{else}}<td class="v{{if .Unknown}} muted{{end}}">{{if .Unknown}}not shown by the read{{else}}{{.Old}}{{end}}</td><td class="arrow">→</td><td class="v">{{.New}}</td>{{end}}</tr>
{{- end}}
</tbody>
</table>
{{- end}}
{{- if .PlanMore}}<p class="more" data-testid="plan-more">{{.PlanMore}}</p>{{end}}
{{- end}}

{{- if .Notes}}
<h2 id="notes">Notes</h2>
<ul>{{range .Notes}}<li>{{.}}</li>{{end}}</ul>
{{- end}}
</body>
</html>
{{define "chart"}}
{{- if .Empty}}<p class="muted">No request was timed.</p>{{else}}
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {{.W}} {{.H}}" width="{{.W}}" height="{{.H}}" role="img" aria-label="{{.Label}}">
{{- range .Grid}}
<line class="grid" x1="{{$.Left}}" x2="{{$.Right}}" y1="{{.Y}}" y2="{{.Y}}"/><text x="{{.X}}" y="{{.Y}}" dy="4" text-anchor="{{.Anchor}}">{{.Text}}</text>
{{- end}}
{{- range .Bars}}
<rect class="bar" x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}"><title>{{.Tip}}</title></rect>
{{- end}}
{{- range .Lines}}
<polyline class="{{.Class}}" points="{{.Points}}"><title>{{.Name}}</title></polyline>
{{- $class := .Class}}{{range .Dots}}<circle class="{{$class}}" cx="{{.X}}" cy="{{.Y}}" r="2.5"><title>{{.Tip}}</title></circle>{{end}}
{{- end}}
<line class="axis" x1="{{.Left}}" x2="{{.Right}}" y1="{{.Bottom}}" y2="{{.Bottom}}"/>
{{- range .Labels}}
<text x="{{.X}}" y="{{.Y}}" text-anchor="{{.Anchor}}">{{.Text}}</text>
{{- end}}
</svg>
{{- end}}
{{- end}}`
