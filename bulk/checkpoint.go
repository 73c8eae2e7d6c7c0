package bulk

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/everify/everify/internal/atomicfile"
)

// Checkpoint is how far an interrupted run with an output file got: what a resumed run
// skips and keeps. It is saved next to the output ([CheckpointPath]) while the run
// goes, atomically, after the output it describes is on disk; so after a crash, the
// first OutputSize bytes of the output are complete rows for the first Rows input rows.
type Checkpoint struct {
	Version    int    `json:"version"`
	Input      string `json:"input"`             // the input file as named
	HeadBytes  int64  `json:"input_head_bytes"`  // how much of the input HeadSHA256 covers
	HeadSHA256 string `json:"input_head_sha256"` // of the input's first HeadBytes
	Settings   string `json:"settings"`          // hash of the settings that shape the output
	Rows       int    `json:"rows"`              // input data rows done
	Offset     int64  `json:"input_offset"`      // input byte where the next row starts
	OutputRows int    `json:"output_rows"`       // rows written (--keep writes fewer)
	OutputSize int64  `json:"output_size"`       // bytes of the output they fill
	Failed     bool   `json:"fail_on_matched"`   // a row done matched --fail-on
}

const checkpointVersion = 1

// headBytes is how much of the input's start a checkpoint hashes.
const headBytes = 64 << 10

// CheckpointPath returns the checkpoint file of an output file.
func CheckpointPath(output string) string { return output + ".everify-checkpoint" }

// NewCheckpoint returns a checkpoint of a run from input (a file) with settings, no row
// done yet.
func NewCheckpoint(input, settings string) (*Checkpoint, error) {
	n, sum, err := hashHead(input, headBytes)
	if err != nil {
		return nil, err
	}
	return &Checkpoint{Version: checkpointVersion, Input: input, HeadBytes: n, HeadSHA256: sum, Settings: settings}, nil
}

// hashHead returns the SHA-256 of up to limit first bytes of the file at path.
func hashHead(path string, limit int64) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(f, limit))
	if err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// LoadCheckpoint reads a checkpoint file. A missing file is an error satisfying
// errors.Is(err, fs.ErrNotExist).
func LoadCheckpoint(path string) (*Checkpoint, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Checkpoint
	if err := json.Unmarshal(b, &c); err != nil || c.Version != checkpointVersion {
		return nil, fmt.Errorf("checkpoint %s: unreadable (delete it and run again without --resume)", path)
	}
	return &c, nil
}

// Errors of [Checkpoint.Check].
var (
	// ErrSettingsChanged means a resumed run's flags would write different rows.
	ErrSettingsChanged = errors.New("the settings changed since the interrupted run")
)

// Check reports whether a run from input with settings may resume from c: the input's
// head must hash the same ([ErrInputChanged]), and the settings must be equal
// ([ErrSettingsChanged]). An input that grew past the head is accepted.
func (c *Checkpoint) Check(input, settings string) error {
	if settings != c.Settings {
		return ErrSettingsChanged
	}
	n, sum, err := hashHead(input, c.HeadBytes)
	if err != nil {
		return err
	}
	if n != c.HeadBytes || sum != c.HeadSHA256 {
		return fmt.Errorf("%w: its first %d bytes differ", ErrInputChanged, c.HeadBytes)
	}
	return nil
}

// Save writes c to path atomically: a temporary file, synced, renamed over the old one.
func (c *Checkpoint) Save(path string) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(path, append(b, '\n')); err != nil {
		return fmt.Errorf("saving checkpoint: %w", err)
	}
	return nil
}

// TruncateOutput cuts the output file f to the checkpoint's OutputSize, dropping a
// torn last line and rows written after the checkpoint (they are verified again, from
// the store when it has them), and moves f's offset to the end. An output shorter than
// the checkpoint says cannot be resumed.
func (c *Checkpoint) TruncateOutput(f *os.File) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.Size() < c.OutputSize {
		return fmt.Errorf("the output %s has %d bytes, the checkpoint says %d were written: it was changed", f.Name(), st.Size(), c.OutputSize)
	}
	if err := f.Truncate(c.OutputSize); err != nil {
		return err
	}
	_, err = f.Seek(c.OutputSize, io.SeekStart)
	return err
}
