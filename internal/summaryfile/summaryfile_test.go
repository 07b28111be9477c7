package summaryfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/ensbulk/ensbulk/batch"
	"github.com/ensbulk/ensbulk/report"
)

func TestCheckDest(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "summary.json")
	if err := os.WriteFile(file, []byte(`{"version":1,"exit_code":0,"outcome":"ok"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	input := filepath.Join(dir, "changes.csv")
	if err := os.WriteFile(input, []byte("mailbox,description\n1001,x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.json")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		path         string
		wantReplaced bool
		wantRefused  string // the DestError's reason; "" for accepted
	}{
		{"a new file", filepath.Join(dir, "new.json"), true, ""},
		{"an existing file", file, true, ""},
		{"standard output", "-", false, ""},
		{"an empty file", empty, true, ""},
		{"a file that is not a summary", input, false, "exists and is not a summary of ensbulk's; refusing to overwrite it (is it the input or a report? name a file of its own)"},
		{"a directory", dir, false, "is a directory"},
		{"a missing directory", filepath.Join(dir, "none", "s.json"), false, "directory " + filepath.Join(dir, "none") + " does not exist"},
	}
	if runtime.GOOS != "windows" {
		tests = append(tests, struct {
			name         string
			path         string
			wantReplaced bool
			wantRefused  string
		}{"a device is written through", os.DevNull, false, ""})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := CheckDest(tt.path, &bytes.Buffer{})
			if tt.wantRefused != "" {
				var de *DestError
				if !errors.As(err, &de) || de.Path != tt.path || de.Reason != tt.wantRefused {
					t.Fatalf("CheckDest = %v, want a DestError %q", err, tt.wantRefused)
				}
				return
			}
			if err != nil {
				t.Fatalf("CheckDest: %v", err)
			}
			if d.Replaced() != tt.wantReplaced {
				t.Errorf("Replaced = %v, want %v", d.Replaced(), tt.wantReplaced)
			}
		})
	}
	if d, err := CheckDest("", nil); d != nil || err != nil {
		t.Errorf(`CheckDest("") = %v, %v; want no destination`, d, err)
	}
}

// A link to nothing is refused: writing through it would create its
// target wherever it points.
func TestCheckDestDanglingLink(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need a privilege on Windows")
	}
	link := filepath.Join(t.TempDir(), "summary.json")
	if err := os.Symlink(filepath.Join(t.TempDir(), "gone", "x.json"), link); err != nil {
		t.Fatal(err)
	}
	var de *DestError
	if _, err := CheckDest(link, nil); !errors.As(err, &de) {
		t.Errorf("CheckDest = %v, want a DestError", err)
	}
}

// Of fills every status's count, zero for a run that ended before the
// engine ran, and takes the engine's figures when it did.
func TestOfAndWrite(t *testing.T) {
	started := time.Date(2026, 3, 10, 1, 0, 0, 0, time.UTC)
	refused := Of("run", "in.csv", "in.report.csv", nil, nil, started, started.Add(2*time.Second))
	if refused.Rows != 0 || len(refused.Counts) != len(batch.Statuses) || refused.DurationSec != 2 {
		t.Errorf("refused run: rows %d, %d counts, %gs; want 0, every status, 2s", refused.Rows, len(refused.Counts), refused.DurationSec)
	}
	sum := &batch.Summary{Todo: 3, Requests: 6, AchievedRate: 4.26, Duration: 5 * time.Second}
	c := &report.Counts{Rows: 3, ByStatus: map[batch.Status]int{batch.StatusOK: 2, batch.StatusFailed: 1}}
	s := Of("validate", "in.csv", "in.report.csv", sum, c, started, started.Add(time.Minute))
	s.ExitCode, s.Outcome = 1, RowsNotOK
	if s.Rows != 3 || s.Counts["ok"] != 2 || s.Counts["failed"] != 1 || s.AchievedRate != 4.3 || s.DurationSec != 5 {
		t.Errorf("summary = %+v", s)
	}

	var out bytes.Buffer
	d, err := CheckDest("-", &out)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Write(s); err != nil {
		t.Fatal(err)
	}
	var back Summary
	if err := json.Unmarshal(out.Bytes(), &back); err != nil {
		t.Fatalf("written summary does not decode: %v\n%s", err, out.Bytes())
	}
	if back.Outcome != RowsNotOK || back.Command != "validate" || !bytes.HasSuffix(out.Bytes(), []byte("}\n")) {
		t.Errorf("written summary = %s", out.Bytes())
	}
}
