package htmlpage

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
)

// The charts are inline SVG drawn here from numbers: no script, no font
// or image to fetch, and they print. Coordinates are strings so that the
// template writes them as they are.

// chart is one SVG chart of plotW x plotH inside margins.
type chart struct {
	W, H                int
	Left, Right, Bottom string // of the plot area
	Label               string // what the chart shows, for a screen reader
	Bars                []bar
	Lines               []series
	Labels              []label
	Grid                []label // horizontal lines at Y, text at the left
	Empty               bool
}

type bar struct{ X, Y, W, H, Tip string }

// series is a line through points, with a dot at each: a line of one
// point (a run of one bucket) still shows.
type series struct {
	Points, Class, Name string
	Dots                []point
}

type point struct{ X, Y, Tip string }

type label struct{ X, Y, Text, Anchor string }

const (
	chartW, chartH                      = 760, 190
	marginL, marginR, marginT, marginB  = 64, 12, 10, 34
	plotW, plotH                        = chartW - marginL - marginR, chartH - marginT - marginB
	plotBottom                          = marginT + plotH
	maxTimeLabels                       = 5
	tipTimeLayout, tipTimeLayoutWithDay = "15:04:05", "Jan 2 15:04:05"
)

// newChart is an empty chart labelled label.
func newChart(label string) chart {
	return chart{W: chartW, H: chartH, Label: label, Left: f1(marginL), Right: f1(chartW - marginR), Bottom: f1(plotBottom)}
}

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// niceMax rounds v up to 1, 2 or 5 times a power of ten.
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// yGrid is the grid of a chart whose top is top, with labels by show.
func yGrid(top float64, show func(float64) string) []label {
	var g []label
	for _, f := range []float64{0, 0.5, 1} {
		y := float64(plotBottom) - f*plotH
		g = append(g, label{X: f1(marginL - 6), Y: f1(y), Text: show(f * top), Anchor: "end"})
	}
	return g
}

// timelineCharts draws the rows finished per second, and the median and
// 95th percentile latency, per bucket of the timeline.
func (s *Stats) timelineCharts() (rate, lat chart) {
	t := &s.timeline
	n := int(t.hi - t.lo + 1)
	slot := float64(plotW) / float64(n)
	width := float64(t.width)
	start := func(k int64) time.Time { return time.Unix(k*t.width, 0).UTC() }
	layout := tipTimeLayout
	if start(t.lo).YearDay() != start(t.hi+1).YearDay() || start(t.lo).Year() != start(t.hi+1).Year() {
		layout = tipTimeLayoutWithDay
	}
	maxRate, maxLat := 0.0, int64(0)
	for _, b := range t.b {
		maxRate = max(maxRate, float64(b.rows)/width)
		if b.lat != nil {
			maxLat = max(maxLat, b.lat.quantile(0.95))
		}
	}
	rate = newChart("rows done per second, per " + showDuration(time.Duration(t.width)*time.Second))
	lat = newChart("latency per " + showDuration(time.Duration(t.width)*time.Second) + ": median and 95th percentile")
	topRate, topLat := niceMax(maxRate), niceMax(float64(maxLat))
	rate.Grid = yGrid(topRate, func(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) + "/s" })
	lat.Grid = yGrid(topLat, func(v float64) string { return showMS(int64(v)) })
	var p50, p95 []string
	var d50, d95 []point
	for i := range n {
		k := t.lo + int64(i)
		b := t.b[k]
		if b == nil {
			continue
		}
		x := float64(marginL) + float64(i)*slot
		r := float64(b.rows) / width
		h := r / topRate * plotH
		tip := fmt.Sprintf("%s UTC: %s, %s/s", start(k).Format(layout), plural(b.rows, "row", "rows"), strconv.FormatFloat(r, 'g', 4, 64))
		rate.Bars = append(rate.Bars, bar{X: f1(x + slot*0.1), Y: f1(plotBottom - h), W: f1(max(slot*0.8, 0.5)), H: f1(h), Tip: tip})
		if b.lat != nil {
			cx := f1(x + slot/2)
			q50, q95 := b.lat.quantile(0.5), b.lat.quantile(0.95)
			y50, y95 := f1(plotBottom-float64(q50)/topLat*plotH), f1(plotBottom-float64(q95)/topLat*plotH)
			p50, p95 = append(p50, cx+","+y50), append(p95, cx+","+y95)
			at := start(k).Format(layout) + " UTC: "
			d50 = append(d50, point{X: cx, Y: y50, Tip: at + "median " + showMS(q50)})
			d95 = append(d95, point{X: cx, Y: y95, Tip: at + "95th percentile " + showMS(q95)})
		}
	}
	if len(p50) > 0 {
		lat.Lines = []series{
			{Points: joinSpace(p95), Class: "p95", Name: "95th percentile", Dots: d95},
			{Points: joinSpace(p50), Class: "p50", Name: "median", Dots: d50},
		}
	} else {
		lat.Empty = true
	}
	step := max(1, n/(maxTimeLabels-1))
	for i := 0; i <= n; i += step {
		x := float64(marginL) + float64(i)*slot
		anchor := "middle"
		if i == 0 {
			anchor = "start"
		} else if i == n {
			anchor = "end"
		}
		l := label{X: f1(x), Y: f1(plotBottom + 18), Text: start(t.lo + int64(i)).Format(layout), Anchor: anchor}
		rate.Labels = append(rate.Labels, l)
		lat.Labels = append(lat.Labels, l)
	}
	return rate, lat
}

func joinSpace(ps []string) string {
	out := ""
	for i, p := range ps {
		if i > 0 {
			out += " "
		}
		out += p
	}
	return out
}

// histGroups are the histogram's bins as the chart shows them: one bar
// per half doubling of the latency (0, 1, 2-3, 4-7, ..., 32-47, 48-63,
// ...), so that a run of 10 ms requests with a tail of 30 s ones fits one
// chart.
func histGroups() [][2]int {
	g := [][2]int{{0, 0}, {1, 1}, {2, 3}, {4, 7}, {8, 15}, {16, 31}}
	for i := exactBins; i < nBins; i += subBins / 2 {
		g = append(g, [2]int{i, i + subBins/2 - 1})
	}
	return g
}

// histChart draws the distribution of the latency.
func histChart(h *hist) chart {
	c := newChart("latency distribution: requests per latency range (ranges double every two bars)")
	if h.n == 0 {
		c.Empty = true
		return c
	}
	groups := histGroups()
	counts := make([]int64, len(groups))
	first, last := -1, -1
	for gi, g := range groups {
		for i := g[0]; i <= g[1]; i++ {
			counts[gi] += h.bins[i]
		}
		if counts[gi] > 0 {
			if first < 0 {
				first = gi
			}
			last = gi
		}
	}
	shown := counts[first : last+1]
	top := niceMax(float64(slices.MaxFunc(shown, cmp.Compare[int64])))
	c.Grid = yGrid(top, func(v float64) string { return fmtInt(int(v)) })
	slot := float64(plotW) / float64(len(shown))
	every := max(1, len(shown)/8)
	for i, n := range shown {
		g := groups[first+i]
		lo, _ := binRange(g[0])
		_, hi := binRange(g[1])
		x := float64(marginL) + float64(i)*slot
		hgt := float64(n) / top * plotH
		c.Bars = append(c.Bars, bar{X: f1(x + slot*0.1), Y: f1(plotBottom - hgt), W: f1(slot * 0.8), H: f1(hgt),
			Tip: fmt.Sprintf("%s to %s: %s", showMS(lo), showMS(hi), plural(int(n), "request", "requests"))})
		if i%every == 0 {
			c.Labels = append(c.Labels, label{X: f1(x + slot/2), Y: f1(plotBottom + 18), Text: "≥" + showMS(lo), Anchor: "middle"})
		}
	}
	return c
}

// sortBy sorts xs by count, most first, then by key.
func sortBy[T any](xs []T, count func(T) int, key func(T) string) {
	slices.SortFunc(xs, func(a, b T) int {
		if c := cmp.Compare(count(b), count(a)); c != 0 {
			return c
		}
		return cmp.Compare(key(a), key(b))
	})
}

// sortedKeys are the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
