package dsn

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/everify/everify/verify"
)

var day0 = time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)

func soft(email string, day int) Event {
	return Event{Email: email, Kind: KindSoft, Reason: verify.ReasonMailboxFull, Status: "4.2.2",
		Date: day0.AddDate(0, 0, day), ID: fmt.Sprintf("soft-%s-%d", email, day), Source: "dsn"}
}

func delivery(email string, day int) Event {
	return Event{Email: email, Kind: KindDelivery, Reason: verify.ReasonAccepted,
		Date: day0.AddDate(0, 0, day), ID: fmt.Sprintf("del-%s-%d", email, day), Source: "ses"}
}

func hard(email string, day int) Event {
	return Event{Email: email, Kind: KindHard, Reason: verify.ReasonMailboxNotFound, Status: "5.1.1",
		Date: day0.AddDate(0, 0, day), ID: fmt.Sprintf("hard-%s-%d", email, day), Source: "dsn"}
}

// TestPolicy: hard and complaints suppress at once; SoftLimit soft bounces in a row
// within Window do; a delivery in between resets the run.
func TestPolicy(t *testing.T) {
	tests := []struct {
		name      string
		events    []Event
		state     State
		sup       bool
		softCount int
	}{
		{"hard", []Event{hard("a@x.org", 0)}, StateHard, true, 0},
		{"complaint", []Event{{Email: "a@x.org", Kind: KindComplaint, Reason: ReasonComplaint, ID: "c"}}, StateComplaint, true, 0},
		{"4 soft", []Event{soft("a@x.org", 0), soft("a@x.org", 1), soft("a@x.org", 2), soft("a@x.org", 3)}, StateSoft, false, 4},
		{"5 soft", []Event{soft("a@x.org", 0), soft("a@x.org", 1), soft("a@x.org", 2), soft("a@x.org", 3), soft("a@x.org", 4)}, StateSoft, true, 5},
		{"delivery resets", []Event{soft("a@x.org", 0), soft("a@x.org", 1), soft("a@x.org", 2),
			delivery("a@x.org", 3), soft("a@x.org", 4), soft("a@x.org", 5)}, StateSoft, false, 2},
		{"delivery after suppression lifts it", []Event{soft("a@x.org", 0), soft("a@x.org", 1), soft("a@x.org", 2),
			soft("a@x.org", 3), soft("a@x.org", 4), delivery("a@x.org", 5)}, StateSoft, false, 0},
		{"delivery does not lift a hard bounce", []Event{hard("a@x.org", 0), delivery("a@x.org", 5)}, StateHard, true, 0},
		{"window", []Event{soft("a@x.org", 0), soft("a@x.org", 10), soft("a@x.org", 20), soft("a@x.org", 35),
			soft("a@x.org", 45)}, StateSoft, false, 3},
		{"hard after soft", []Event{soft("a@x.org", 0), hard("a@x.org", 1)}, StateHard, true, 1},
		{"duplicate counted once", []Event{soft("a@x.org", 0), soft("a@x.org", 0), soft("a@x.org", 0),
			soft("a@x.org", 0), soft("a@x.org", 0)}, StateSoft, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The outcome is the same in any order.
			for round := 0; round < 10; round++ {
				evs := append([]Event(nil), tt.events...)
				rand.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
				l := &List{}
				for _, ev := range evs {
					l.Add(ev)
				}
				es := l.Entries()
				if len(es) != 1 {
					t.Fatalf("%d entries, want 1", len(es))
				}
				e := es[0]
				if e.State != tt.state || e.Suppressed != tt.sup || e.SoftCount != tt.softCount {
					t.Fatalf("order %v: state %s suppressed %v soft_count %d, want %s %v %d",
						evs, e.State, e.Suppressed, e.SoftCount, tt.state, tt.sup, tt.softCount)
				}
				sup, n := l.Suppressed("A@X.ORG")
				if sup != tt.sup || (!sup && n != tt.softCount) {
					t.Errorf("Suppressed = %v, %d", sup, n)
				}
			}
		})
	}
}

func TestPolicyLimit(t *testing.T) {
	l := &List{Policy: Policy{SoftLimit: 2, Window: 24 * time.Hour}}
	l.Add(soft("a@x.org", 0))
	l.Add(soft("a@x.org", 2)) // two days later: the first fell out of the window
	if sup, n := l.Suppressed("a@x.org"); sup || n != 1 {
		t.Errorf("Suppressed = %v, %d; want false, 1", sup, n)
	}
	l.Add(Event{Email: "a@x.org", Kind: KindSoft, Date: day0.AddDate(0, 0, 2).Add(time.Hour), ID: "x"})
	if sup, _ := l.Suppressed("a@x.org"); !sup {
		t.Error("2 soft bounces within a day not suppressed with SoftLimit 2")
	}
}

// TestIgnoredNeverSuppress: bounces not about the recipient and delay warnings are not
// recorded.
func TestIgnoredNeverSuppress(t *testing.T) {
	l := &List{}
	for i := 0; i < 10; i++ {
		if l.Add(Event{Email: "a@x.org", Kind: KindIgnored, Reason: verify.ReasonSMTPBlocked, ID: fmt.Sprint(i)}) {
			t.Error("ignored event added")
		}
		if l.Add(Event{Email: "a@x.org", Kind: KindDelayed, ID: fmt.Sprint(i)}) {
			t.Error("delay warning added")
		}
	}
	if len(l.Entries()) != 0 {
		t.Errorf("entries %v", l.Entries())
	}
}

func writeCSV(t *testing.T, l *List) string {
	t.Helper()
	var b bytes.Buffer
	if err := l.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func reload(t *testing.T, s string, merge bool) *List {
	t.Helper()
	l := &List{}
	if err := l.Load(strings.NewReader(s), merge); err != nil {
		t.Fatal(err)
	}
	return l
}

// TestMerge: merging the same events twice gives the same list, and merging two halves
// gives the list of all the events at once, in CSV and in NDJSON.
func TestMerge(t *testing.T) {
	var evs []Event
	for d := 0; d < 7; d++ {
		evs = append(evs, soft("s@x.org", d), soft("t@x.org", d*8))
	}
	evs = append(evs, hard("h@x.org", 1), hard("h@x.org", 2), delivery("s@x.org", 3), delivery("d@x.org", 3),
		Event{Email: "c@x.org", Kind: KindComplaint, Reason: ReasonComplaint, ID: "c1", Date: day0, Diagnostic: "abuse,\n\"quoted\""})
	all := &List{}
	for _, ev := range evs {
		all.Add(ev)
	}
	want := writeCSV(t, all)

	again := reload(t, want, true)
	for _, ev := range evs {
		if again.Add(ev) && ev.Kind != KindDelivery {
			t.Errorf("event %s %s counted again", ev.Email, ev.ID)
		}
	}
	if got := writeCSV(t, again); got != want {
		t.Errorf("merging the same events again changed the list:\ngot:\n%s\nwant:\n%s", got, want)
	}

	first := &List{}
	for _, ev := range evs[:len(evs)/2] {
		first.Add(ev)
	}
	var nd bytes.Buffer
	if err := first.WriteNDJSON(&nd); err != nil {
		t.Fatal(err)
	}
	second := reload(t, nd.String(), true)
	for _, ev := range evs[len(evs)/2:] {
		second.Add(ev)
	}
	if got := writeCSV(t, second); got != want {
		t.Errorf("two merged halves differ from one run:\ngot:\n%s\nwant:\n%s", got, want)
	}
}

func TestLoad(t *testing.T) {
	// An exported suppression list: an email column alone suppresses every row.
	l := reload(t, "Email,Note\nJane@Example.org,bounced\n", false)
	if sup, _ := l.Suppressed("jane@example.org"); !sup {
		t.Error("plain list entry not suppressed")
	}
	// The suppressed column stands when not merging, whatever the policy says.
	l = reload(t, "email,state,soft_count,suppressed\na@x.org,soft,3,true\nb@x.org,soft,2,false\n", false)
	if sup, _ := l.Suppressed("a@x.org"); !sup {
		t.Error("a@x.org: suppressed column ignored")
	}
	if sup, n := l.Suppressed("b@x.org"); sup || n != 2 {
		t.Errorf("b@x.org: Suppressed = %v, %d; want false, 2", sup, n)
	}
	// Two lists: suppressed if any says so.
	if err := l.Load(strings.NewReader("email\nb@x.org\n"), false); err != nil {
		t.Fatal(err)
	}
	if sup, _ := l.Suppressed("b@x.org"); !sup {
		t.Error("b@x.org suppressed by a second list: not suppressed")
	}
	for _, bad := range []string{
		"address\nx@y.org\n",
		"email,state\nnot-an-address,hard\n",
		"email,state\nx@y.org,dead\n",
		"email,bounces\nx@y.org,many\n",
		"{\"email\": 3}\n",
	} {
		if err := (&List{}).Load(strings.NewReader(bad), false); err == nil {
			t.Errorf("Load(%q) = nil error", bad)
		}
	}
}
