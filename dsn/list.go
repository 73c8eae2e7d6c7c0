package dsn

import (
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/everify/everify/verify"
)

// State is why an address is on the suppression list.
type State string

// The states of an [Entry].
const (
	StateHard      State = "hard"      // a hard bounce: suppressed
	StateComplaint State = "complaint" // a spam complaint: suppressed
	// StateSoft is an address with soft bounces: suppressed once Policy.SoftLimit of
	// them came with no delivery in between, within Policy.Window.
	StateSoft State = "soft"
)

// Policy turns bounces into suppression.
type Policy struct {
	// SoftLimit is how many soft bounces in a row, with no delivery in between, suppress
	// an address; 0 means 5 (as CRM tools such as Zoho CRM do).
	SoftLimit int
	// Window is the span within which those soft bounces must fall; 0 means 30 days.
	Window time.Duration
}

func (p Policy) limit() int {
	if p.SoftLimit <= 0 {
		return 5
	}
	return p.SoftLimit
}

func (p Policy) window() time.Duration {
	if p.Window <= 0 {
		return 30 * 24 * time.Hour
	}
	return p.Window
}

// Caps on what an entry remembers, so that a list stays small whatever the logs hold.
const (
	maxSoftDates = 64  // soft bounces of the current run of them
	maxEventIDs  = 256 // events already counted; past it the oldest are forgotten
)

// An Entry is one address of the suppression list.
type Entry struct {
	Email      string // normalized address, as first seen
	State      State
	Suppressed bool
	Reason     verify.Reason // the reason of the bounce that decided the state
	Bounces    int           // hard and soft bounces and complaints counted
	SoftCount  int           // soft bounces since the last delivery, within the window
	FirstSeen  time.Time
	LastSeen   time.Time
	LastStatus string // of the latest event
	LastDiag   string
	Source     string
	// LastDelivery is the latest delivery seen; soft bounces before it do not count.
	LastDelivery time.Time
	// SoftDates are the soft bounces after LastDelivery, oldest first.
	SoftDates []time.Time
	// EventIDs are hashes of the events counted, so that reading the same bounce twice
	// counts it once.
	EventIDs []uint64

	decided time.Time // date of the event that set State and Reason
}

// A List is a suppression list: what the bounces, complaints and deliveries of a
// sending say about each address. Its methods are safe for concurrent use; it is a
// [verify.Suppressor]. The zero List is empty, with the default [Policy].
type List struct {
	Policy Policy

	mu      sync.RWMutex
	entries map[string]*Entry // by key
}

// key folds an address for lookup: bounces and lists disagree on case, and no mail
// system still treats local parts case-sensitively for delivery.
func key(email string) string { return strings.ToLower(email) }

// eventID is the de-duplication hash of an event.
func eventID(ev *Event) uint64 {
	h := fnv.New64a()
	h.Write([]byte(ev.ID))
	h.Write([]byte{0})
	h.Write([]byte(key(ev.Email)))
	h.Write([]byte{0})
	h.Write([]byte(ev.Kind))
	return h.Sum64()
}

// Add records an event. It reports false when the event was not counted: its kind
// says nothing about the address (ignored, delayed), its address is empty, or the same
// event (same ID, address and kind) was counted before. Events may come in any order:
// the outcome depends only on the set of events added.
func (l *List) Add(ev Event) bool {
	if ev.Email == "" {
		return false
	}
	switch ev.Kind {
	case KindHard, KindSoft, KindComplaint, KindDelivery:
	default:
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.entries == nil {
		l.entries = make(map[string]*Entry)
	}
	k := key(ev.Email)
	e := l.entries[k]
	if ev.Kind == KindDelivery {
		if e == nil {
			// Deliveries matter only to addresses that bounced: remember no others.
			e = &Entry{Email: ev.Email}
			l.entries[k] = e
		}
		if ev.Date.After(e.LastDelivery) {
			e.LastDelivery = ev.Date
		}
		l.update(e)
		return true
	}
	if e == nil {
		e = &Entry{Email: ev.Email}
		l.entries[k] = e
	}
	id := eventID(&ev)
	if slices.Contains(e.EventIDs, id) {
		return false
	}
	e.EventIDs = append(e.EventIDs, id)
	if len(e.EventIDs) > maxEventIDs {
		e.EventIDs = slices.Delete(e.EventIDs, 0, len(e.EventIDs)-maxEventIDs)
	}
	e.Bounces++
	if e.FirstSeen.IsZero() || ev.Date.Before(e.FirstSeen) {
		e.FirstSeen = ev.Date
	}
	if !ev.Date.Before(e.LastSeen) {
		e.LastSeen, e.LastStatus, e.LastDiag, e.Source = ev.Date, statusText(&ev), oneLine(ev.Diagnostic), ev.Source
	}
	// The strongest evidence decides: a hard bounce over a complaint over soft bounces;
	// among equals, the latest.
	if r, cur := rank(State(ev.Kind)), rank(e.State); r > cur || r == cur && !ev.Date.Before(e.decided) {
		e.State, e.Reason, e.decided = State(ev.Kind), ev.Reason, ev.Date
	}
	if ev.Kind == KindSoft {
		i, _ := slices.BinarySearchFunc(e.SoftDates, ev.Date, func(a, b time.Time) int { return a.Compare(b) })
		e.SoftDates = slices.Insert(e.SoftDates, i, ev.Date)
	}
	l.update(e)
	return true
}

func rank(s State) int {
	switch s {
	case StateSoft:
		return 1
	case StateComplaint:
		return 2
	case StateHard:
		return 3
	}
	return 0
}

// maxDiag bounds the diagnostic kept per address.
const maxDiag = 1000

// oneLine makes a diagnostic one line of at most maxDiag bytes (cut on a rune).
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxDiag {
		s = strings.ToValidUTF8(s[:maxDiag], "")
	}
	return s
}

// statusText is the last_status of an event: its enhanced code, else its basic code,
// else its kind.
func statusText(ev *Event) string {
	switch {
	case ev.Status != "":
		return ev.Status
	case ev.Code != 0:
		return strconv.Itoa(ev.Code)
	}
	return string(ev.Kind)
}

// update recomputes the soft-bounce run and the suppression of e.
func (l *List) update(e *Entry) {
	// Soft bounces before the latest delivery are forgiven, and so are those older than
	// the window before the latest one: the newest only moves forward, so dropping them
	// now gives the same outcome whatever the order of events.
	keep := e.SoftDates[:0]
	for _, d := range e.SoftDates {
		if d.After(e.LastDelivery) || e.LastDelivery.IsZero() {
			keep = append(keep, d)
		}
	}
	e.SoftDates = keep
	if n := len(e.SoftDates); n > 0 {
		from := e.SoftDates[n-1].Add(-l.Policy.window())
		i, _ := slices.BinarySearchFunc(e.SoftDates, from, func(a, b time.Time) int { return a.Compare(b) })
		e.SoftDates = slices.Delete(e.SoftDates, 0, i)
	}
	if len(e.SoftDates) > maxSoftDates {
		e.SoftDates = slices.Delete(e.SoftDates, 0, len(e.SoftDates)-maxSoftDates)
	}
	e.SoftCount = len(e.SoftDates)
	switch e.State {
	case StateHard, StateComplaint:
		e.Suppressed = true
	case StateSoft:
		e.Suppressed = e.SoftCount >= l.Policy.limit()
	default:
		e.Suppressed = false
	}
}

// Suppressed implements [verify.Suppressor]: it reports whether email is suppressed
// and, when it is not, its soft bounces so far.
func (l *List) Suppressed(email string) (bool, int) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	e := l.entries[key(email)]
	if e == nil {
		return false, 0
	}
	if e.Suppressed {
		return true, 0
	}
	return false, e.SoftCount
}

// Entries returns the addresses that bounced or complained, sorted by address. The
// entries are copies.
func (l *List) Entries() []Entry {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make([]Entry, 0, len(l.entries))
	for _, e := range l.entries {
		if e.Bounces > 0 {
			out = append(out, *e)
		}
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(key(a.Email), key(b.Email)) })
	return out
}

// put adds an entry read back from a list file. With recompute, its soft-bounce run and
// suppression are decided anew by l's Policy (a list being merged into); without, the
// file's suppressed column stands (a list used by check and bulk).
func (l *List) put(e *Entry, recompute bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.entries == nil {
		l.entries = make(map[string]*Entry)
	}
	e.decided = e.LastSeen
	k := key(e.Email)
	if recompute {
		l.update(e)
	} else if old := l.entries[k]; old != nil {
		old.Suppressed = old.Suppressed || e.Suppressed
		old.SoftCount = max(old.SoftCount, e.SoftCount)
		return
	}
	l.entries[k] = e
}
