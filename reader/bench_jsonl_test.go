package reader

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// writeBenchJSONL writes the synthetic rows as JSONL: mailbox and
// description as strings, customer and envelope as numbers, an empty cell
// as an absent key and the empty token as "", so that every kind of value
// the JSONL reader takes is on the path measured.
func writeBenchJSONL(b *testing.B) string {
	b.Helper()
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(WriteSyntheticCSV(pw, benchRows)) }()
	cr := csv.NewReader(pr)
	header, err := cr.Read()
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "bench.jsonl")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 64<<10)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		bw.WriteByte('{')
		first := true
		for i, v := range rec {
			if v == "" {
				continue
			}
			if !first {
				bw.WriteByte(',')
			}
			first = false
			k, _ := json.Marshal(header[i])
			bw.Write(k)
			bw.WriteByte(':')
			switch {
			case v == DefaultEmptyToken:
				bw.WriteString(`""`)
			case header[i] == "customer" || header[i] == "envelope":
				bw.WriteString(v)
			default:
				s, _ := json.Marshal(v)
				bw.Write(s)
			}
		}
		bw.WriteString("}\n")
	}
	if err := bw.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkReadJSONL reads the synthetic rows as JSONL with our reader:
// the same checks as BenchmarkReadCSV, on the JSON path.
func BenchmarkReadJSONL(b *testing.B) {
	path := writeBenchJSONL(b)
	b.Run("rows=100000", func(b *testing.B) {
		benchFile(b, path, func(f *os.File) (int, error) {
			r, err := New(f, Options{Name: "bench.jsonl", Format: JSONL})
			if err != nil {
				return 0, err
			}
			n := 0
			for {
				row, err := r.Next()
				if err == io.EOF {
					return n, nil
				}
				if err != nil {
					return n, err
				}
				if row.Err != nil {
					b.Fatalf("synthetic row %d refused: %v", row.Num, row.Err)
				}
				n++
			}
		})
	})
}
