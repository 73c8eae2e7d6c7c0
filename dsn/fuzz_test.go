package dsn

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpusSeeds adds the files of testdata/bounces with the given suffixes as seeds.
func corpusSeeds(f *testing.F, suffixes ...string) {
	paths, _ := filepath.Glob("testdata/bounces/*")
	for _, p := range paths {
		for _, s := range suffixes {
			if strings.HasSuffix(p, s) {
				b, err := os.ReadFile(p)
				if err != nil {
					f.Fatal(err)
				}
				f.Add(b)
			}
		}
	}
}

// checkEvents checks the properties every event must have, whatever the input.
func checkEvents(t *testing.T, evs []Event) {
	t.Helper()
	for _, ev := range evs {
		if ev.Email == "" || normalize(ev.Email) != ev.Email {
			t.Errorf("event address %q is not a normalized address", ev.Email)
		}
		switch ev.Kind {
		case KindHard, KindSoft, KindComplaint, KindDelivery, KindDelayed, KindIgnored:
		default:
			t.Errorf("event kind %q", ev.Kind)
		}
		if ev.Kind == KindHard && ev.Reason.Status() != "undeliverable" {
			t.Errorf("hard bounce with reason %s", ev.Reason)
		}
	}
}

// FuzzParseMessage: the DSN parser never panics on any message, and what it reports
// has valid addresses and kinds.
func FuzzParseMessage(f *testing.F) {
	corpusSeeds(f, ".eml")
	f.Add([]byte("Content-Type: multipart/report; boundary=x\n\n--x\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; a@b.org\nAction: failed\nStatus: 5.1.1\n"))
	f.Add([]byte("Content-Type: message/delivery-status\n\n\n \nFinal-Recipient: a@b.org\n\tcontinued\nStatus: 9.9.9999\n"))
	f.Add([]byte("Content-Type: multipart/report; boundary=\"\"\n\n--\n"))
	f.Add([]byte("\xff\xfe\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		evs, err := ParseMessage(bytes.NewReader(b))
		if errors.Is(err, ErrNotBounce) && len(evs) > 0 {
			t.Errorf("ErrNotBounce with %d events", len(evs))
		}
		checkEvents(t, evs)
	})
}

// FuzzTextBounces: the text-bounce extractor never panics, whatever the text.
func FuzzTextBounces(f *testing.F) {
	for _, name := range []string{"exim.eml", "qmail.eml", "yahoo.eml", "exchange-text.eml"} {
		b, err := os.ReadFile(filepath.Join("testdata/bounces", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add(eximMarker + "\nfailed:\n  a@b.org\n")
	f.Add(exchangeMarker + "\n a@b.org\n#5")
	f.Add(qmailMarker + "\n<a@b.org>:\n")
	f.Add(exchangeMarker + "\nx@y.org\nREMOTE SERVER RETURNED 'İ550 5.1.1'")
	f.Fuzz(func(t *testing.T, s string) {
		checkEvents(t, textBounces([]string{s}, &msgInfo{}))
		htmlText(s)
	})
}

// FuzzMbox: splitting an mbox never panics, never returns more bytes than it read, and
// reaches the end.
func FuzzMbox(f *testing.F) {
	corpusSeeds(f, ".mbox")
	f.Add([]byte("From a\nx\nFrom b\n>From c\n>>From d\n"))
	f.Add([]byte("no from line\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m := newMboxReader(bytes.NewReader(b))
		total := 0
		for i := 0; ; i++ {
			msg, _, _, err := m.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil || i > len(b) {
				t.Fatalf("Next: %v after %d messages", err, i)
			}
			total += len(msg)
		}
		if total > len(b) {
			t.Errorf("%d message bytes from %d input bytes", total, len(b))
		}
	})
}

// FuzzESP: decoding ESP records never panics.
func FuzzESP(f *testing.F) {
	corpusSeeds(f, ".json", ".ndjson")
	f.Add([]byte(`{"Type":"Notification","TopicArn":"x","Message":"{\"notificationType\":\"Bounce\"}"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return
		}
		evs, _ := espEvents(b)
		checkEvents(t, evs)
	})
}
