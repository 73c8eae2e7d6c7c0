package shard

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/everify/everify/internal/atomicfile"
)

// ManifestSuffix ends the name of a shard output's manifest: `-o out.3.csv` gets
// out.3.csv.shard.json.
const ManifestSuffix = ".shard.json"

// ManifestPath returns the manifest path of a shard output.
func ManifestPath(output string) string { return output + ManifestSuffix }

// manifestVersion is the Manifest.Version this package writes and reads.
const manifestVersion = 1

// Manifest describes one finished shard output. `bulk --shard` writes it after the
// output is complete, so a shard that crashed or was interrupted has none; [Merge]
// compares the manifests of all shards before reading a row.
type Manifest struct {
	Version int    `json:"everify_shard_manifest"`
	Shard   string `json:"shard"`  // "K/N"
	Format  string `json:"format"` // csv, ndjson, json
	// CSV output only: the delimiter, the name of the row column (the last one;
	// "everify_row" when the input has a "row" column) and the line terminator.
	Delimiter string `json:"delimiter,omitempty"`
	RowColumn string `json:"row_column,omitempty"`
	EOL       string `json:"eol,omitempty"` // the input's line terminator ("\r": bare CR)
	// Input identifies the input: every shard must have read the same bytes.
	InputSHA256 string `json:"input_sha256"`
	InputRows   int    `json:"input_rows"` // data rows of the whole input
	// Rows is the number of rows this shard wrote; OutputBytes the output's size.
	Rows        int   `json:"rows"`
	OutputBytes int64 `json:"output_bytes"`
	// Settings are the flags that decide what a row says (see cmd/everify), as given;
	// all shards must agree on them.
	Settings map[string]string `json:"settings"`
	// Kept is true when --keep wrote only some rows: rows 1..InputRows then have gaps.
	Kept bool `json:"kept"`
	// What this shard counted, for the merged summary.
	Summary Summary `json:"summary"`
}

// Summary is what a bulk run counts for the summary it prints.
type Summary struct {
	Rows          int            `json:"rows"`
	Statuses      map[string]int `json:"statuses"`
	Reasons       map[string]int `json:"reasons"`
	Duplicates    int            `json:"duplicates"`
	Malformed     int            `json:"malformed"`
	Empty         int            `json:"empty"`               // rows with no data at all
	Providers     map[string]int `json:"providers,omitempty"` // recognised mail providers
	DNSQueries    int64          `json:"dns_queries"`
	Sessions      int64          `json:"smtp_sessions"`
	RoundTrips    int64          `json:"smtp_round_trips"`
	PeakPerServer int64          `json:"smtp_peak_per_server"` // the most sessions at once to one server
	SMTP          bool           `json:"smtp"`                 // the SMTP stage ran
	ElapsedMS     int64          `json:"elapsed_ms"`           // wall time of the shard
}

// add adds o's counts to s; the elapsed time is the longest, as shards run at once.
func (s *Summary) add(o Summary) {
	s.Rows += o.Rows
	s.Duplicates += o.Duplicates
	s.Malformed += o.Malformed
	s.Empty += o.Empty
	for k, v := range o.Providers {
		if s.Providers == nil {
			s.Providers = map[string]int{}
		}
		s.Providers[k] += v
	}
	s.DNSQueries += o.DNSQueries
	s.Sessions += o.Sessions
	s.RoundTrips += o.RoundTrips
	s.PeakPerServer = max(s.PeakPerServer, o.PeakPerServer)
	s.SMTP = s.SMTP || o.SMTP
	s.ElapsedMS = max(s.ElapsedMS, o.ElapsedMS)
	for k, v := range o.Statuses {
		s.Statuses[k] += v
	}
	for k, v := range o.Reasons {
		s.Reasons[k] += v
	}
}

// WriteManifest writes m next to output, atomically (a temporary file renamed), so a
// manifest is either absent or complete.
func WriteManifest(output string, m *Manifest) error {
	m.Version = manifestVersion
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(ManifestPath(output), func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

// RemoveManifest removes output's manifest, if any: a run about to write output must
// not leave an older run's manifest vouching for it.
func RemoveManifest(output string) error {
	if err := os.Remove(ManifestPath(output)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// ReadManifest reads the manifest of a shard output.
func ReadManifest(output string) (*Manifest, error) {
	path := ManifestPath(output)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: no manifest %s: not an output of 'everify bulk --shard K/N -o FILE', or that run did not finish", output, path)
	}
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if m.Version != manifestVersion {
		return nil, fmt.Errorf("%s: manifest version %d, this everify reads version %d", path, m.Version, manifestVersion)
	}
	if m.Summary.Statuses == nil {
		m.Summary.Statuses = map[string]int{}
	}
	if m.Summary.Reasons == nil {
		m.Summary.Reasons = map[string]int{}
	}
	return &m, nil
}

// diffSettings names the first setting (in name order) on which a and b differ, "" when
// none does.
func diffSettings(a, b map[string]string) string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range slices.Compact(keys) {
		av, aok := a[k]
		bv, bok := b[k]
		if av != bv || aok != bok {
			return fmt.Sprintf("%s is %s, not %s", k, show(bv, bok), show(av, aok))
		}
	}
	return ""
}

func show(v string, ok bool) string {
	switch {
	case !ok:
		return "absent"
	case v == "":
		return `""`
	case strings.ContainsAny(v, " \t\n\""):
		return fmt.Sprintf("%q", v)
	}
	return v
}
