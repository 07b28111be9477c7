package enswitch

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// benchGetData is the data member BenchmarkGet's server sends.
func benchGetData() []byte {
	var data strings.Builder
	data.WriteString(`{"mailbox":"100042","customer":3,"description":"Reception, front desk 100042","envelope":1,` +
		`"notify_email":"owner_wav","pager":"vm100042@example.com","pin":"****","timezone":"Europe/London","email":null`)
	for i := range 31 {
		data.WriteString(`,"column_` + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + `":"value ` + strings.Repeat("v", i%11) + `"`)
	}
	data.WriteString("}")
	return []byte(data.String())
}

// BenchmarkDecodeGetData is the decoding of one get's data from a stream
// as Get does it, without the HTTP around it: exact is the map of
// RawMessages and decodeValue per column, fast the RawMessage and
// decodeMailbox's fast path.
func BenchmarkDecodeGetData(b *testing.B) {
	data := benchGetData()
	sec := &secrets{res: []*secretPattern{secretRE("admin-demo-pass")}}
	b.Run("exact", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var cols map[string]json.RawMessage
			if err := json.NewDecoder(bytes.NewReader(data)).Decode(&cols); err != nil {
				b.Fatal(err)
			}
			if _, err := mailboxOf(cols, sec); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		var raw json.RawMessage
		for b.Loop() {
			if err := json.NewDecoder(bytes.NewReader(data)).Decode(&raw); err != nil {
				b.Fatal(err)
			}
			if _, err := decodeMailbox(raw, sec); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fast-only", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := fastMailbox(data, sec); !ok {
				b.Fatal("not taken")
			}
		}
	})
	b.Run("exact-only", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeMailboxExact(data, sec); err != nil {
				b.Fatal(err)
			}
		}
	})
}
