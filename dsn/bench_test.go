package dsn

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// writeMbox writes an mbox of n Postfix-style DSNs for 1,000 distinct recipients.
func writeMbox(b *testing.B, n int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "bounces.mbox")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := 0; i < n; i++ {
		fmt.Fprintf(w, `From MAILER-DAEMON  Tue Jun  3 09:12:44 2025
Date: Tue,  3 Jun 2025 09:12:44 +0000 (UTC)
From: MAILER-DAEMON@mail.sender.example (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: news@sender.example
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B%d"
Message-Id: <%d.bench@mail.sender.example>

--B%d
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mail.sender.example.
<user%d@example.org>: host mx1.example.org[192.0.2.10] said: 550 5.1.1 User unknown

--B%d
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.sender.example
Arrival-Date: Tue,  3 Jun 2025 09:12:43 +0000 (UTC)

Final-Recipient: rfc822; user%d@example.org
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx1.example.org
Diagnostic-Code: smtp; 550 5.1.1 <user%d@example.org>: Recipient address
    rejected: User unknown in virtual mailbox table

--B%d
Content-Type: text/rfc822-headers

From: News <news@sender.example>
To: user%d@example.org
Subject: June newsletter

--B%d--

`, i, i, i, i%1000, i, i%1000, i%1000, i, i%1000, i)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	return path
}

// BenchmarkScanMbox reads mboxes of 10,000 and 100,000 DSNs into a suppression list and
// reports messages/s, allocated bytes per message and the peak heap in use (sampled
// every 10,000 events), which must not grow with the file.
//
//	go test ./dsn -run '^$' -bench ScanMbox -benchtime 3x
func BenchmarkScanMbox(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("dsns=%d", n), func(b *testing.B) {
			path := writeMbox(b, n)
			b.ReportAllocs()
			var peak uint64
			var ms runtime.MemStats
			for b.Loop() {
				l := &List{}
				sc := &Scanner{Event: func(ev Event) error {
					l.Add(ev)
					return nil
				}}
				if err := sc.Scan(context.Background(), path); err != nil {
					b.Fatal(err)
				}
				if sc.Stats.Events != n || sc.Stats.Problems != 0 {
					b.Fatalf("stats %+v", sc.Stats)
				}
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "msgs/s")
			b.ReportMetric(float64(peak)/(1<<20), "heap-MB")
		})
	}
}
