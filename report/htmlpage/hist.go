package htmlpage

import "math/bits"

// Latency is kept in a histogram of fixed bins, so that a percentile of
// any number of rows costs the same few kilobytes: exact below 32 ms,
// then 16 bins per doubling, so a percentile read from a bin is within
// 1/32 of the true value (the bin's middle is at most half a bin, 1/32 of
// its lower edge, away from any value in it). Durations of 2^31 ms (24
// days) and more share the last bin.
const (
	exactBins = 32
	subBins   = 16
	subBits   = 4  // log2(subBins)
	topExp    = 31 // the last doubling with bins of its own
	nBins     = exactBins + (topExp-5+1)*subBins
)

// hist counts durations in milliseconds.
type hist struct {
	n    int64
	bins [nBins]int64
}

// binOf is the bin of a duration of ms milliseconds.
func binOf(ms int64) int {
	if ms < exactBins {
		return int(max(ms, 0))
	}
	e := bits.Len64(uint64(ms)) - 1 // 2^e <= ms < 2^(e+1), e >= 5
	if e > topExp {
		return nBins - 1
	}
	sub := int(ms>>(e-subBits)) & (subBins - 1)
	return exactBins + (e-5)*subBins + sub
}

// binRange is the lowest and highest duration of bin i.
func binRange(i int) (lo, hi int64) {
	if i < exactBins {
		return int64(i), int64(i)
	}
	e := (i-exactBins)/subBins + 5
	sub := int64((i - exactBins) % subBins)
	step := int64(1) << (e - subBits)
	lo = (subBins + sub) * step
	return lo, lo + step - 1
}

func (h *hist) add(ms int64) {
	h.n++
	h.bins[binOf(ms)]++
}

func (h *hist) merge(o *hist) {
	h.n += o.n
	for i, c := range o.bins {
		h.bins[i] += c
	}
}

// quantile returns the q-quantile (0 < q <= 1) of the durations: the
// middle of the bin that holds the ceil(q*n)-th smallest; 0 when empty.
func (h *hist) quantile(q float64) int64 {
	if h.n == 0 {
		return 0
	}
	rank := int64(q * float64(h.n))
	if float64(rank) < q*float64(h.n) {
		rank++
	}
	rank = min(max(rank, 1), h.n)
	var seen int64
	for i, c := range h.bins {
		seen += c
		if seen >= rank {
			lo, hi := binRange(i)
			return lo + (hi-lo)/2
		}
	}
	return 0 // not reached: the bins hold n
}

// timeline counts finished rows, and the latency of those that sent a
// request, per bucket of width seconds. When the buckets from the first
// to the last would be more than max, the width doubles and neighbours
// merge, so a timeline of any length holds at most max buckets.
type timeline struct {
	width  int64 // seconds, a power of two
	max    int
	b      map[int64]*bucket // by unix second / width
	lo, hi int64             // keys of the first and last bucket
}

type bucket struct {
	rows int
	lat  *hist // nil until a row sent a request
}

func (t *timeline) add(sec, ms int64, sent bool) {
	k := floorDiv(sec, t.width)
	if len(t.b) == 0 {
		t.lo, t.hi = k, k
	}
	for max(t.hi, k)-min(t.lo, k)+1 > int64(t.max) {
		t.merge()
		k = floorDiv(sec, t.width)
	}
	t.lo, t.hi = min(t.lo, k), max(t.hi, k)
	b := t.b[k]
	if b == nil {
		b = &bucket{}
		t.b[k] = b
	}
	b.rows++
	if sent {
		if b.lat == nil {
			b.lat = &hist{}
		}
		b.lat.add(ms)
	}
}

// merge doubles the width: bucket k goes into k/2 (rounded down).
func (t *timeline) merge() {
	t.width *= 2
	nb := make(map[int64]*bucket, len(t.b)/2+1)
	for k, b := range t.b {
		k2 := floorDiv(k, 2)
		into := nb[k2]
		if into == nil {
			nb[k2] = b
			continue
		}
		into.rows += b.rows
		if b.lat != nil {
			if into.lat == nil {
				into.lat = b.lat
			} else {
				into.lat.merge(b.lat)
			}
		}
	}
	t.b = nb
	t.lo, t.hi = floorDiv(t.lo, 2), floorDiv(t.hi, 2)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
