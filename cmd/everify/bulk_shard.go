package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/everify/everify/csvio"
	"github.com/everify/everify/shard"
	"github.com/everify/everify/verify"
)

// This file is `bulk --shard K/N`: the flag, the row filter, the row number in the
// output and the manifest written next to it. A nil *shardRun (no --shard) does
// nothing, so runBulk calls it unconditionally.

func addShardFlag(cmd *cobra.Command, opts *BulkOptions) {
	cmd.Flags().StringVar(&opts.ShardFlag, "shard", "", "verify only shard `K/N` of the rows, chosen by a hash of the domain; needs -o (see 'everify merge')")
	cmd.Flags().StringVar(&opts.ShardIndexFlag, "shard-index", "", "--shard with a 0-based index, `I/N` = shard I+1 of N (a Kubernetes Indexed Job's $JOB_COMPLETION_INDEX)")
	cmd.MarkFlagsMutuallyExclusive("shard", "shard-index")
}

// completeShard checks --shard and records the settings the shards must agree on.
func completeShard(cmd *cobra.Command, opts *BulkOptions) error {
	var spec shard.Spec
	var err error
	switch {
	case opts.ShardFlag != "" && opts.ShardIndexFlag != "":
		// Cobra's exclusivity check runs before EVERIFY_* variables are applied.
		return flagErrorf("--shard and --shard-index (or EVERIFY_SHARD and EVERIFY_SHARD_INDEX) both given")
	case opts.ShardFlag != "":
		if spec, err = shard.Parse(opts.ShardFlag); err != nil {
			return flagErrorf("invalid --shard: %v", err)
		}
	case opts.ShardIndexFlag != "":
		if spec, err = shard.ParseIndex(opts.ShardIndexFlag); err != nil {
			return flagErrorf("invalid --shard-index: %v", err)
		}
	default:
		return nil
	}
	if opts.Output == "" || opts.Output == "-" {
		return flagErrorf("--shard needs -o FILE: 'everify merge' reads the shard's manifest, written next to it as FILE%s", shard.ManifestSuffix)
	}
	opts.Shard = spec
	opts.shardSettings = shardSettings(cmd.Flags())
	return nil
}

// perMachine are the flags the shards of one run may set differently: how each machine
// runs and reaches the network, not what a row's verdict means. "resume" and "store"
// are the result store's.
var perMachine = []string{"output", "progress", "workers", "shard", "shard-index", "fail-on", "help",
	"helo", "from", "proxy", "resolver", "dns-timeout", "smtp-timeout", "per-mx",
	"rcpt-per-conn", "max-rejects", "lists-dir", "resume", "store"}

// shardSettings returns the value of every other flag, given or defaulted, as the
// manifest's settings.
func shardSettings(fs *pflag.FlagSet) map[string]string {
	m := map[string]string{"version": version}
	fs.VisitAll(func(f *pflag.Flag) {
		if !slices.Contains(perMachine, f.Name) {
			m[f.Name] = f.Value.String()
		}
	})
	return m
}

// shardRun is the --shard part of one bulk run.
type shardRun struct {
	opts *BulkOptions
	hash hash.Hash // of the input bytes
	rd   *csvio.Reader
	v    *verify.Verifier
	rows int // input rows read
}

func newShardRun(opts *BulkOptions) (*shardRun, error) {
	if opts.Shard.N == 0 {
		return nil, nil
	}
	// An older run's manifest must not vouch for the output this run writes.
	if err := shard.RemoveManifest(opts.Output); err != nil {
		return nil, err
	}
	return &shardRun{opts: opts, hash: sha256.New()}, nil
}

// input hashes what is read from r: shards of different inputs must not be merged.
func (s *shardRun) input(r io.Reader) io.Reader {
	if s == nil {
		return r
	}
	return io.TeeReader(r, s.hash)
}

// recordReader is what the bulk loop reads records from.
type recordReader interface {
	Read() (*csvio.Record, error)
}

// records returns the rows this shard verifies: those whose domain hashes to it, and
// in shard 1 those without a usable domain (malformed or invalid), which the verifier
// would never look up.
func (s *shardRun) records(rd *csvio.Reader, v *verify.Verifier) recordReader {
	if s == nil {
		return rd
	}
	s.rd, s.v = rd, v
	return s
}

func (s *shardRun) Read() (*csvio.Record, error) {
	for {
		rec, err := s.rd.Read()
		if err != nil {
			return nil, err
		}
		s.rows = rec.Row
		domain := ""
		if rec.Problem == "" {
			if syn := s.v.Parse(rec.Address); syn.Valid {
				domain = syn.ASCIIDomain
			}
		}
		if s.opts.Shard.Has(domain) {
			return rec, nil
		}
	}
}

// total is the progress bar's total: unknown, as the rows of this shard are known only
// once read.
func (s *shardRun) total(n int64) int64 {
	if s == nil {
		return n
	}
	return -1
}

// finish writes the manifest of the complete output.
func (s *shardRun) finish(sum *summary, sink *bulkSink, elapsed time.Duration) error {
	if s == nil {
		return nil
	}
	st, err := os.Stat(s.opts.Output)
	if err != nil {
		return err
	}
	opts := s.opts
	m := &shard.Manifest{
		Shard:       opts.Shard.String(),
		Format:      opts.Format,
		InputSHA256: hex.EncodeToString(s.hash.Sum(nil)),
		InputRows:   s.rows,
		Rows:        sum.rows,
		OutputBytes: st.Size(),
		Settings:    s.settings(),
		Kept:        len(opts.Keep) > 0,
		Summary:     sum.shardSummary(s.v.Stats(), !opts.Verify.Offline && !opts.Verify.NoSMTP, elapsed),
	}
	if m.Kept {
		m.Rows = 0
		for _, k := range opts.Keep {
			m.Rows += sum.byStatus[verify.Status(k)]
		}
	}
	if sink.csv != nil {
		names := sink.csv.ResultNames()
		m.Delimiter, m.RowColumn, m.EOL = string(s.rd.Delimiter()), names[len(names)-1], s.rd.EOL()
	}
	return shard.WriteManifest(opts.Output, m)
}

// settings are the flags' settings plus what the flags only name: the reference lists
// in use (a machine may have updated its own) and the contents of --allow and --deny.
func (s *shardRun) settings() map[string]string {
	m := maps.Clone(s.opts.shardSettings)
	var lists []string
	for _, l := range s.v.Lists.Info() {
		lists = append(lists, l.Name+":"+strconv.Itoa(l.Entries))
	}
	m["lists"] = strings.Join(lists, ",")
	for _, flag := range []string{"allow", "deny"} {
		if path := m[flag]; path != "" {
			if b, err := os.ReadFile(path); err == nil {
				m[flag] = fmt.Sprintf("sha256:%x", sha256.Sum256(b))
			}
		}
	}
	return m
}

// shardSummary is s in the manifest's form.
func (s *summary) shardSummary(st verify.Stats, smtp bool, elapsed time.Duration) shard.Summary {
	out := shard.Summary{Rows: s.rows, Statuses: map[string]int{}, Reasons: map[string]int{},
		Duplicates: s.duplicates, Malformed: s.malformed, Empty: s.empty, Providers: s.byProvider, DNSQueries: st.DNSQueries,
		Sessions: st.Sessions, RoundTrips: st.RoundTrips, PeakPerServer: st.PeakPerServer, SMTP: smtp, ElapsedMS: elapsed.Milliseconds()}
	for k, v := range s.byStatus {
		out.Statuses[string(k)] = v
	}
	for k, v := range s.byReason {
		out.Reasons[string(k)] = v
	}
	return out
}
