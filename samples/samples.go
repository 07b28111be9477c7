// Package samples holds small real-looking input files: the demo runs
// them, the README shows them, the tests check them. They are written
// against the simulator's demo world (simulator.Generate with the default
// mailbox count): customers 100 "Northwind Dental" (odd mailboxes from
// 1001) and 101 "Blue Fjord Hotels" (even mailboxes from 1002), and 102
// "Legacy Plan Ltd" whose rate plan forbids updates.
package samples

import "embed"

// FS holds changes.csv and its JSONL twin changes.jsonl.
//
//go:embed changes.csv changes.jsonl
var FS embed.FS
