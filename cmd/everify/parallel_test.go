package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestParallelRecipe runs the GNU parallel recipe of README (deploy/parallel) with the
// built binary: its merged output is the unsharded output. The ssh form runs with the
// local login ":", which exercises its command line but copies nothing.
func TestParallelRecipe(t *testing.T) {
	if _, err := exec.LookPath("parallel"); err != nil {
		t.Skip("GNU parallel is not installed (apt-get install parallel): the recipe is not tested")
	}
	script, err := filepath.Abs("../../deploy/parallel/everify-shards.sh")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "list.csv")
	os.WriteFile(in, genList(3000), 0o644)
	want, errOut, code := runBinary(t, "", "bulk", "--offline", "--progress", "never", in)
	if code != 0 {
		t.Fatalf("bulk: exit %d: %s", code, errOut)
	}
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"local", []string{"3", in, "merged.csv", "--offline"}},
		{"ssh", []string{"-S", ":", "7", in, "merged.csv", "--offline"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			work := t.TempDir()
			cmd := exec.Command("bash", append([]string{script}, tt.args...)...)
			cmd.Dir = work
			cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(binPath(t))+string(os.PathListSeparator)+os.Getenv("PATH"),
				"TMPDIR="+work, "HOME="+work) // parallel keeps its state in $HOME/.parallel
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if !strings.Contains(string(out), "everify: 3000 rows in ") {
				t.Errorf("no merged summary in the output:\n%s", out)
			}
			got, err := os.ReadFile(filepath.Join(work, "merged.csv"))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != want {
				t.Errorf("merged output differs from the unsharded one: %s", firstDiff(string(got), want))
			}
			if ents, _ := filepath.Glob(filepath.Join(work, "everify-shards.*")); len(ents) != 0 {
				t.Errorf("the recipe left its shard outputs: %v", ents)
			}
		})
	}
}
