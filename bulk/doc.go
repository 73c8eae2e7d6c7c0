// Package bulk is the engine of `everify bulk` and `everify recheck`: it reads records,
// verifies each address once per run (duplicates replay the first verdict), reuses
// verdicts of a result store when they are fresh, and hands the results to the caller
// in input order, with the memory of a bounded window whatever the input's length.
//
// The caller owns input detection, the output format and progress display: [Run] takes
// a [Job] whose Emit writes one row. For resumable runs, a Job skips the rows an earlier
// run finished (Skip, checked against SkipOffset) and reports its progress at intervals
// to Checkpoint, which the caller saves with [Checkpoint.Save].
//
//	sum, err := bulk.Run(ctx, bulk.Job{Input: rd, Verifier: v, Workers: 64,
//		Emit: func(row bulk.Row) error { return sink.Write(row.Record, row.Result) }})
package bulk
