// Package job is one run, validate or plan of ensbulk from prepare to
// finish: it opens the input's snapshot, the report and its lock, decides
// what to resume, drives the engine, and completes the report, the undo
// file and the summary. It can be driven without the binary: the command
// fills Options, passes an Env (the process's streams, clock and
// connection) and maps the Kind of the returned error to an exit code.
package job
