package shard

import (
	"fmt"
	"hash/fnv"
	"strings"
	"testing"
)

// TestOfPinned pins the assignment: shard outputs of one version are merged by another,
// so these values must never change.
func TestOfPinned(t *testing.T) {
	for _, tt := range []struct {
		domain     string
		n2, n3, n7 int
	}{
		// FNV-1a-32: gmail.com 1531976242, example.org 764291505, [192.0.2.1] 1542269260.
		{"gmail.com", 1, 2, 7},
		{"example.org", 2, 1, 6},
		{"xn--bcher-kva.de", 2, 1, 5},
		{"[192.0.2.1]", 1, 2, 1},
		{"d0.zz", 2, 2, 1},
		{"d1.zz", 1, 1, 1},
		{"outlook.com", 2, 1, 7},
	} {
		for _, c := range []struct{ n, want int }{{2, tt.n2}, {3, tt.n3}, {7, tt.n7}} {
			if got := Of(tt.domain, c.n); got != c.want {
				t.Errorf("Of(%q, %d) = %d, want %d", tt.domain, c.n, got, c.want)
			}
		}
	}
}

// TestOfIsDocumentedHash checks Of against the standard library's FNV-1a.
func TestOfIsDocumentedHash(t *testing.T) {
	for i := range 2000 {
		d := fmt.Sprintf("Host-%d.Example%d.ORG.", i, i%13)
		h := fnv.New32a()
		h.Write([]byte(strings.ToLower(strings.TrimSuffix(d, "."))))
		for _, n := range []int{1, 2, 3, 7, 1000} {
			if got, want := Of(d, n), int(h.Sum32()%uint32(n))+1; got != want {
				t.Fatalf("Of(%q, %d) = %d, want %d", d, n, got, want)
			}
		}
	}
}

func TestOfEdges(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7} {
		if got := Of("", n); got != 1 {
			t.Errorf(`Of("", %d) = %d, want 1 (rows without a domain are in shard 1)`, n, got)
		}
	}
	if Of("GMAIL.com", 7) != Of("gmail.com", 7) || Of("gmail.com.", 7) != Of("gmail.com", 7) {
		t.Error("case or a final dot changed the shard")
	}
}

// TestOfSpreads: domains spread evenly enough that N machines share the work.
func TestOfSpreads(t *testing.T) {
	const domains, n = 7000, 7
	counts := make([]int, n+1)
	for i := range domains {
		counts[Of(fmt.Sprintf("d%d.zz", i), n)]++
	}
	for k := 1; k <= n; k++ {
		if c := counts[k]; c < domains/n*8/10 || c > domains/n*12/10 {
			t.Errorf("shard %d/%d has %d of %d domains", k, n, c, domains)
		}
	}
}

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Spec
		err  string
	}{
		{"1/1", Spec{1, 1}, ""},
		{"3/7", Spec{3, 7}, ""},
		{" 7 / 7 ", Spec{7, 7}, ""},
		{"0/3", Spec{}, "K must be 1 to N"},
		{"4/3", Spec{}, "K must be 1 to N"},
		{"1/0", Spec{}, "N must be 1 to 1000"},
		{"1/1001", Spec{}, "N must be 1 to 1000"},
		{"-1/3", Spec{}, "K must be"},
		{"3", Spec{}, "want K/N"},
		{"a/b", Spec{}, "want K/N"},
		{"", Spec{}, "want K/N"},
		{"1/2/3", Spec{}, "want K/N"},
	} {
		got, err := Parse(tt.in)
		switch {
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("Parse(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("Parse(%q) error = %v, want one containing %q", tt.in, err, tt.err)
		}
		if err == nil && got.String() != strings.ReplaceAll(tt.in, " ", "") {
			t.Errorf("Parse(%q).String() = %q", tt.in, got.String())
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"1/1", "3/7", "0/0", "x", "1000/1000", "99999999999999999999/1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sp, err := Parse(s)
		if err != nil {
			return
		}
		if sp.K < 1 || sp.K > sp.N || sp.N > MaxShards {
			t.Fatalf("Parse(%q) = %v: out of range", s, sp)
		}
		if again, err := Parse(sp.String()); err != nil || again != sp {
			t.Fatalf("Parse(%q) = %v does not round-trip: %v, %v", s, sp, again, err)
		}
	})
}

func TestParseIndex(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Spec
		ok   bool
	}{
		{"0/4", Spec{1, 4}, true},
		{"3/4", Spec{4, 4}, true},
		{"4/4", Spec{}, false},
		{"-1/4", Spec{}, false},
		{"1", Spec{}, false},
		{"$(JOB_COMPLETION_INDEX)/4", Spec{}, false}, // not expanded: refused, not shard 1
	} {
		got, err := ParseIndex(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseIndex(%q) = %v, %v; want %v (ok %v)", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
