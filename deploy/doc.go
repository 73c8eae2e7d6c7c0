// Package deploy holds the deployment recipes of everify — kubernetes/ (an Indexed Job
// running `bulk --shard-index`, a merge Job, a shared volume) and parallel/ (GNU
// parallel, locally or over ssh) — and the tests that check them statically.
package deploy
