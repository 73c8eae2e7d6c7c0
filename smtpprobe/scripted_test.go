package smtpprobe

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// exch is one step of a scripted server: read the commands in cmds (each must start
// with the given prefix, case-insensitively) before answering, then write reply, or run
// act instead (misbehaviour: hang, drip, disconnect). A nil cmds is the banner.
type exch struct {
	cmds  []string
	reply string
	act   func(c net.Conn)
}

// scripted is a raw SMTP server on 127.0.0.1 that replays one script per accepted
// connection and records every command line it receives, failing the test on DATA or
// BDAT, a command that does not match the script, or a connection beyond the scripts.
// After the script it answers QUIT with 221 and anything else with a test failure.
type scripted struct {
	t     *testing.T
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	lines []string
	conns []net.Conn
}

func startScripted(t *testing.T, scripts ...[]exch) *scripted {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &scripted{t: t, ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for i := 0; ; i++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			if i >= len(scripts) {
				t.Errorf("scripted server: unexpected connection %d", i+1)
				c.Close()
				continue
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(c, scripts[i])
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for _, c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

func (s *scripted) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// serve runs one script on c; it is also used over net.Pipe.
func (s *scripted) serve(c net.Conn, script []exch) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second)) // failsafe: never outlive a broken test
	br := bufio.NewReader(c)
	read := func() (string, bool) {
		l, err := br.ReadString('\n')
		if err != nil {
			return "", false
		}
		l = strings.TrimRight(l, "\r\n")
		s.mu.Lock()
		s.lines = append(s.lines, l)
		s.mu.Unlock()
		if v := strings.ToUpper(verb(l)); v == "DATA" || v == "BDAT" {
			s.t.Errorf("scripted server: client sent %q", l)
		}
		return l, true
	}
	for _, e := range script {
		for _, want := range e.cmds {
			got, ok := read()
			if !ok {
				return // the client gave up; its test checks why
			}
			if !strings.HasPrefix(strings.ToUpper(got), strings.ToUpper(want)) {
				s.t.Errorf("scripted server: got %q, want %q...", got, want)
				return
			}
		}
		if e.act != nil {
			e.act(c)
			return
		}
		if _, err := io.WriteString(c, e.reply); err != nil {
			return
		}
	}
	for {
		l, ok := read()
		if !ok {
			return
		}
		if strings.EqualFold(l, "QUIT") {
			io.WriteString(c, "221 2.0.0 bye\r\n")
			return
		}
		s.t.Errorf("scripted server: unexpected command %q after script", l)
		io.WriteString(c, "502 5.5.1 unexpected\r\n")
	}
}

// transcript waits for every connection to end and returns the commands received.
func (s *scripted) transcript() []string {
	s.ln.Close()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		s.t.Error("scripted server: connection still open")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines...)
}

// Script fragments.
var (
	banner   = exch{reply: "220 mx.test ESMTP\r\n"}
	ehloPipe = exch{cmds: []string{"EHLO probe.test"}, reply: "250-mx.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n"}
	ehloBare = exch{cmds: []string{"EHLO probe.test"}, reply: "250 mx.test\r\n"}
	mailOK   = exch{cmds: []string{"MAIL FROM:<verify@probe.test>"}, reply: "250 2.1.0 Ok\r\n"}
)

func rcpt(addr, reply string) exch {
	return exch{cmds: []string{"RCPT TO:<" + addr + ">"}, reply: reply}
}

func script(steps ...exch) []exch { return steps }

var loopback = netip.MustParseAddr("127.0.0.1")

func testProber(port int) *Prober {
	return &Prober{Port: port, HELO: "probe.test", From: "verify@probe.test", Timeout: 5 * time.Second}
}

func openScripted(t *testing.T, steps ...exch) (*scripted, *Session) {
	t.Helper()
	srv := startScripted(t, steps)
	s, err := testProber(srv.port()).Open(t.Context(), "mx.test", loopback)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return srv, s
}

func asError(t *testing.T, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want *Error", err, err)
	}
	return e
}

func checkNoData(t *testing.T, lines []string) {
	t.Helper()
	for _, l := range lines {
		if v := strings.ToUpper(verb(l)); v == "DATA" || v == "BDAT" {
			t.Errorf("transcript contains %q", l)
		}
	}
}

func TestFullTranscript(t *testing.T) {
	srv, s := openScripted(t, banner, ehloBare, mailOK,
		rcpt("jane@example.com", "250 2.1.5 Ok\r\n"),
		rcpt("nobody@example.com", "550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown\r\n"),
		exch{cmds: []string{"RSET"}, reply: "250 2.0.0 Ok\r\n"})
	ctx := t.Context()
	if r, err := s.Mail(ctx, false); err != nil || r.Code != 250 {
		t.Fatalf("Mail = %v, %v", r, err)
	}
	if r, err := s.Rcpt(ctx, "jane@example.com"); err != nil || r != (Reply{250, "2.1.5", "Ok"}) {
		t.Errorf("Rcpt ok = %+v, %v", r, err)
	}
	r, err := s.Rcpt(ctx, "nobody@example.com")
	if err != nil || r.Code != 550 || r.Enhanced != "5.1.1" || !strings.HasPrefix(r.Message, "<nobody@example.com>: Recipient") {
		t.Errorf("Rcpt unknown = %+v, %v", r, err)
	}
	if r, err := s.Reset(ctx); err != nil || r.Code != 250 {
		t.Errorf("Reset = %v, %v", r, err)
	}
	if err := s.Quit(); err != nil {
		t.Errorf("Quit: %v", err)
	}
	if s.Alive() {
		t.Error("Alive after Quit")
	}
	if got, want := s.RoundTrips(), 7; got != want { // banner EHLO MAIL RCPT RCPT RSET QUIT
		t.Errorf("RoundTrips = %d, want %d", got, want)
	}
	got := srv.transcript()
	want := []string{"EHLO probe.test", "MAIL FROM:<verify@probe.test>", "RCPT TO:<jane@example.com>",
		"RCPT TO:<nobody@example.com>", "RSET", "QUIT"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("transcript:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	checkNoData(t, got)
	if _, err := s.Rcpt(ctx, "x@example.com"); !errors.Is(err, ErrClosed) {
		t.Errorf("Rcpt after Quit: %v, want ErrClosed", err)
	}
}

func TestBanner(t *testing.T) {
	tests := []struct {
		name     string
		banner   string
		wantCode int
		wantErr  error // nil: a reply error
		wantMsg  string
	}{
		{"554 blocked", "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org\r\n", 554, nil, "Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org"},
		{"421 busy", "421 4.3.2 Service shutting down\r\n", 421, nil, "Service shutting down"},
		{"multi-line 554", "554-mx.test\r\n554 no SMTP service here\r\n", 554, nil, "mx.test no SMTP service here"},
		{"250 banner", "250 hi\r\n", 250, ErrProtocol, "hi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startScripted(t, script(exch{reply: tt.banner}))
			_, err := testProber(srv.port()).Open(t.Context(), "mx.test", loopback)
			e := asError(t, err)
			if e.Step != StepBanner || e.Reply == nil || e.Reply.Code != tt.wantCode || e.Reply.Message != tt.wantMsg {
				t.Errorf("Open error = %#v (reply %+v), want banner reply %d %q", e, e.Reply, tt.wantCode, tt.wantMsg)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Open error %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && e.Err != nil {
				t.Errorf("Open error Err = %v, want nil", e.Err)
			}
			if got := srv.transcript(); len(got) != 0 {
				t.Errorf("client sent %q after a refused banner", got)
			}
		})
	}
}

func TestMultiLineBanner(t *testing.T) {
	_, s := openScripted(t, exch{reply: "220-mx.test ESMTP\r\n220 no UCE\r\n"}, ehloBare)
	if b := s.Banner(); b.Code != 220 || b.Message != "mx.test ESMTP no UCE" {
		t.Errorf("Banner = %+v", b)
	}
}

func hang(c net.Conn) { io.Copy(io.Discard, c) }

func TestTimeouts(t *testing.T) {
	drip := func(prefix string) func(net.Conn) {
		return func(c net.Conn) {
			io.WriteString(c, prefix)
			for {
				if _, err := io.WriteString(c, "x"); err != nil {
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
	tests := []struct {
		name   string
		script []exch
		step   Step
	}{
		{"banner never sent", script(exch{act: hang}), StepBanner},
		{"EHLO never answered", script(banner, exch{cmds: []string{"EHLO"}, act: hang}), StepEHLO},
		{"banner dripped", script(exch{act: drip("220 ")}), StepBanner},
		{"RCPT reply dripped", script(banner, ehloBare, mailOK, exch{cmds: []string{"RCPT"}, act: drip("250-")}), StepRCPT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startScripted(t, tt.script)
			p := testProber(srv.port())
			p.Timeout = 300 * time.Millisecond
			ctx := t.Context()
			s, err := p.Open(ctx, "mx.test", loopback)
			if err == nil {
				defer s.Close()
				if _, err = s.Mail(ctx, false); err == nil {
					_, err = s.Rcpt(ctx, "jane@example.com")
				}
			}
			e := asError(t, err)
			if e.Step != tt.step || !e.Timeout() {
				t.Errorf("error %v (step %s, Timeout %v), want a timeout at %s", err, e.Step, e.Timeout(), tt.step)
			}
			if s != nil && s.Alive() {
				t.Error("Alive after a timeout")
			}
		})
	}
}

// TestContextDeadline checks that a context deadline earlier than Timeout wins.
func TestContextDeadline(t *testing.T) {
	srv := startScripted(t, script(exch{act: hang}))
	p := testProber(srv.port())
	p.Timeout = 30 * time.Second
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { _, err := p.Open(ctx, "mx.test", loopback); done <- err }()
	select {
	case err := <-done:
		if e := asError(t, err); e.Step != StepBanner || !e.Timeout() {
			t.Errorf("Open error %v, want a timeout at banner", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("context deadline ignored")
	}
}

func TestBadReplies(t *testing.T) {
	flood := func(line string) func(net.Conn) {
		return func(c net.Conn) {
			chunk := strings.Repeat(line, 1000)
			for {
				if _, err := io.WriteString(c, chunk); err != nil {
					return
				}
			}
		}
	}
	tenMB := func(c net.Conn) {
		io.WriteString(c, "250 ")
		chunk := strings.Repeat("a", 64<<10)
		for i := 0; i < (10<<20)/len(chunk); i++ {
			if _, err := io.WriteString(c, chunk); err != nil {
				return
			}
		}
		io.WriteString(c, "\r\n")
		hang(c)
	}
	tests := []struct {
		name string
		act  func(net.Conn)
		want []error
	}{
		{"endless continuation", flood("250-x\r\n"), []error{ErrReplyTooLong, ErrProtocol}},
		{"10 MB line", tenMB, []error{ErrReplyTooLong, ErrProtocol}},
		{"garbled", func(c net.Conn) { io.WriteString(c, "hello\r\n"); hang(c) }, []error{ErrProtocol}},
		{"inconsistent codes", func(c net.Conn) { io.WriteString(c, "250-ok\r\n550 no\r\n"); hang(c) }, []error{ErrProtocol}},
		{"disconnect mid-reply", func(c net.Conn) { io.WriteString(c, "250-ok\r\n250 2.1") }, []error{io.ErrUnexpectedEOF}},
		{"disconnect before reply", func(c net.Conn) {}, []error{io.EOF}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, s := openScripted(t, banner, ehloBare, mailOK, exch{cmds: []string{"RCPT"}, act: tt.act})
			ctx := t.Context()
			if _, err := s.Mail(ctx, false); err != nil {
				t.Fatal(err)
			}
			_, err := s.Rcpt(ctx, "jane@example.com")
			e := asError(t, err)
			for _, w := range tt.want {
				if !errors.Is(err, w) {
					t.Errorf("Rcpt error %v, want errors.Is %v", err, w)
				}
			}
			if e.Step != StepRCPT || e.Timeout() || e.Reply != nil {
				t.Errorf("Rcpt error %#v, want a non-timeout error at rcpt without reply", e)
			}
			if s.Alive() {
				t.Error("Alive after a broken reply")
			}
			if _, err := s.Rcpt(ctx, "x@example.com"); !errors.Is(err, ErrClosed) {
				t.Errorf("next Rcpt: %v, want ErrClosed", err)
			}
		})
	}
}

func TestRcpt421(t *testing.T) {
	srv, s := openScripted(t, banner, ehloBare, mailOK,
		rcpt("a@example.com", "421 4.7.0 mx.test Error: too many errors\r\n"))
	ctx := t.Context()
	s.Mail(ctx, false)
	r, err := s.Rcpt(ctx, "a@example.com")
	if r.Code != 421 || r.Enhanced != "4.7.0" {
		t.Errorf("Rcpt reply = %+v, want the 421", r)
	}
	e := asError(t, err)
	if e.Step != StepRCPT || e.Reply == nil || e.Reply.Code != 421 || e.Err != nil {
		t.Errorf("Rcpt error = %#v", e)
	}
	if want := "smtpprobe: rcpt at mx.test: 421 4.7.0 mx.test Error: too many errors"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
	if s.Alive() {
		t.Error("Alive after 421")
	}
	for _, f := range []func() error{
		func() error { _, err := s.Rcpt(ctx, "b@example.com"); return err },
		func() error { _, err := s.RcptBatch(ctx, []string{"b@example.com"}); return err },
		func() error { _, err := s.Reset(ctx); return err },
		func() error { _, err := s.Mail(ctx, false); return err },
	} {
		if err := f(); !errors.Is(err, ErrClosed) {
			t.Errorf("command after 421: %v, want ErrClosed", err)
		}
	}
	if err := s.Quit(); err != nil {
		t.Errorf("Quit after 421: %v, want nil", err)
	}
	if got := srv.transcript(); got[len(got)-1] != "RCPT TO:<a@example.com>" {
		t.Errorf("commands sent after 421: %q", got)
	}
}

func TestEHLOFallback(t *testing.T) {
	tests := []struct {
		name     string
		script   []exch
		wantErr  bool
		wantCode int
	}{
		{"EHLO 502, HELO ok", script(banner, exch{cmds: []string{"EHLO probe.test"}, reply: "502 5.5.2 Error: command not recognized\r\n"},
			exch{cmds: []string{"HELO probe.test"}, reply: "250 mx.test\r\n"}), false, 0},
		{"EHLO 500, HELO ok", script(banner, exch{cmds: []string{"EHLO"}, reply: "500 unrecognized\r\n"},
			exch{cmds: []string{"HELO"}, reply: "250 mx.test\r\n"}), false, 0},
		{"both rejected", script(banner, exch{cmds: []string{"EHLO"}, reply: "550 5.7.1 go away\r\n"},
			exch{cmds: []string{"HELO"}, reply: "550 5.7.1 go away\r\n"}), true, 550},
		{"EHLO 4xx: no fallback", script(banner, exch{cmds: []string{"EHLO"}, reply: "450 4.7.1 try later\r\n"}), true, 450},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startScripted(t, tt.script)
			s, err := testProber(srv.port()).Open(t.Context(), "mx.test", loopback)
			if tt.wantErr {
				e := asError(t, err)
				if e.Step != StepEHLO || e.Reply == nil || e.Reply.Code != tt.wantCode {
					t.Errorf("Open error %v, want %d at ehlo", err, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if ok, _ := s.Extension("PIPELINING"); ok {
				t.Error("extensions after HELO")
			}
			if err := s.Quit(); err != nil {
				t.Error(err)
			}
			got := srv.transcript()
			if len(got) != 3 || !strings.HasPrefix(got[1], "HELO ") {
				t.Errorf("transcript %q, want EHLO, HELO, QUIT", got)
			}
		})
	}
}

func TestExtensions(t *testing.T) {
	_, s := openScripted(t, banner, exch{cmds: []string{"EHLO"},
		reply: "250-mx.test Hello\r\n250-SIZE 35882577\r\n250-pipelining\r\n250-AUTH PLAIN LOGIN\r\n250 SMTPUTF8\r\n"})
	tests := []struct {
		name   string
		ok     bool
		params string
	}{
		{"SIZE", true, "35882577"}, {"size", true, "35882577"}, {"PIPELINING", true, ""},
		{"auth", true, "PLAIN LOGIN"}, {"SMTPUTF8", true, ""}, {"STARTTLS", false, ""}, {"MX.TEST", false, ""},
	}
	for _, tt := range tests {
		if ok, p := s.Extension(tt.name); ok != tt.ok || p != tt.params {
			t.Errorf("Extension(%q) = %v, %q, want %v, %q", tt.name, ok, p, tt.ok, tt.params)
		}
	}
	if !s.SMTPUTF8() {
		t.Error("SMTPUTF8() = false")
	}
}

func TestSMTPUTF8(t *testing.T) {
	ehloUTF8 := exch{cmds: []string{"EHLO"}, reply: "250-mx.test\r\n250 SMTPUTF8\r\n"}
	tests := []struct {
		name     string
		ehlo     exch
		ask      bool
		wantLine string // "" means nothing sent
	}{
		{"offered and asked", ehloUTF8, true, "MAIL FROM:<verify@probe.test> SMTPUTF8"},
		{"offered, not asked", ehloUTF8, false, "MAIL FROM:<verify@probe.test>"},
		{"not offered, not asked", ehloBare, false, "MAIL FROM:<verify@probe.test>"},
		{"not offered, asked", ehloBare, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			steps := []exch{banner, tt.ehlo}
			if tt.wantLine != "" {
				steps = append(steps, exch{cmds: []string{tt.wantLine}, reply: "250 2.1.0 Ok\r\n"})
			}
			srv, s := openScripted(t, steps...)
			_, err := s.Mail(t.Context(), tt.ask)
			if tt.wantLine == "" && !errors.Is(err, ErrSMTPUTF8Unsupported) {
				t.Errorf("Mail error %v, want ErrSMTPUTF8Unsupported", err)
			}
			if tt.wantLine != "" && err != nil {
				t.Errorf("Mail error %v", err)
			}
			if !s.Alive() {
				t.Error("session not alive")
			}
			s.Quit()
			got := srv.transcript()
			want := []string{"EHLO probe.test", "QUIT"}
			if tt.wantLine != "" {
				want = []string{"EHLO probe.test", tt.wantLine, "QUIT"}
			}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("transcript %q, want %q", got, want)
			}
		})
	}
}

func TestNullSender(t *testing.T) {
	srv := startScripted(t, script(banner, ehloBare, exch{cmds: []string{"MAIL FROM:<>"}, reply: "250 ok\r\n"}))
	p := testProber(srv.port())
	p.From = ""
	s, err := p.Open(t.Context(), "mx.test", loopback)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Mail(t.Context(), false); err != nil {
		t.Fatal(err)
	}
	s.Quit()
	if got := srv.transcript(); got[1] != "MAIL FROM:<>" {
		t.Errorf("transcript %q", got)
	}
}

func TestRcptReplies(t *testing.T) {
	tests := []struct {
		name  string
		reply string
		want  Reply
	}{
		{"qmail", "553 sorry, no mailbox here by that name. (#5.7.1)\r\n", Reply{553, "", "sorry, no mailbox here by that name. (#5.7.1)"}},
		{"exchange", "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup\r\n",
			Reply{550, "5.1.10", "RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"}},
		{"gmail", gmail550, Reply{550, "5.1.1", "The email account that you tried to reach does not exist. Please try " +
			"double-checking the recipient's email address for typos or unnecessary spaces. For more information, go to " +
			"https://support.google.com/mail/?p=NoSuchUser 41be03b00d2f7-b93bf44f0c0si2654830a12.57 - gsmtp"}},
		{"greylist", "451 4.7.1 <jane@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/\r\n",
			Reply{451, "4.7.1", "<jane@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/"}},
		{"bare LF", "250 2.1.5 Ok\n", Reply{250, "2.1.5", "Ok"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, s := openScripted(t, banner, ehloBare, mailOK, rcpt("jane@example.com", tt.reply))
			s.Mail(t.Context(), false)
			got, err := s.Rcpt(t.Context(), "jane@example.com")
			if err != nil || got != tt.want {
				t.Errorf("Rcpt = %+v, %v, want %+v", got, err, tt.want)
			}
			if !s.Alive() {
				t.Error("not alive after an ordinary reply")
			}
		})
	}
}

func TestPipelining(t *testing.T) {
	addrs := []string{"a@example.com", "b@example.com", "c@example.com"}
	// The server reads all three RCPTs before it writes the first reply: a client that
	// waited for each reply would time out.
	srv, s := openScripted(t, banner, ehloPipe, mailOK,
		exch{cmds: []string{"RCPT TO:<a@", "RCPT TO:<b@", "RCPT TO:<c@"},
			reply: "250 2.1.5 Ok\r\n550-5.1.1 no\r\n550 5.1.1 such user\r\n452 4.2.2 Mailbox full\r\n"})
	ctx := t.Context()
	s.Mail(ctx, false)
	before := s.RoundTrips()
	got, err := s.RcptBatch(ctx, addrs)
	if err != nil {
		t.Fatal(err)
	}
	want := []Reply{{250, "2.1.5", "Ok"}, {550, "5.1.1", "no such user"}, {452, "4.2.2", "Mailbox full"}}
	if len(got) != len(want) {
		t.Fatalf("RcptBatch = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("reply %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if n := s.RoundTrips() - before; n != 1 {
		t.Errorf("RcptBatch took %d round trips, want 1", n)
	}
	s.Quit()
	checkNoData(t, srv.transcript())
}

func TestRcptBatchNoPipelining(t *testing.T) {
	_, s := openScripted(t, banner, ehloBare, mailOK,
		rcpt("a@example.com", "250 ok\r\n"), rcpt("b@example.com", "550 5.1.1 no\r\n"))
	ctx := t.Context()
	s.Mail(ctx, false)
	before := s.RoundTrips()
	got, err := s.RcptBatch(ctx, []string{"a@example.com", "b@example.com"})
	if err != nil || len(got) != 2 || got[0].Code != 250 || got[1].Code != 550 {
		t.Fatalf("RcptBatch = %+v, %v", got, err)
	}
	if n := s.RoundTrips() - before; n != 2 {
		t.Errorf("RcptBatch took %d round trips, want 2", n)
	}
}

func TestRcptBatchFailure(t *testing.T) {
	tests := []struct {
		name     string
		ehlo     exch
		steps    []exch
		wantN    int
		wantLast int
		wantErr  error
	}{
		{"421 mid-pipeline", ehloPipe, script(exch{cmds: []string{"RCPT", "RCPT", "RCPT"},
			reply: "250 ok\r\n421 4.7.0 too many errors\r\n"}), 2, 421, nil},
		{"disconnect mid-pipeline", ehloPipe, script(exch{cmds: []string{"RCPT", "RCPT", "RCPT"},
			act: func(c net.Conn) { io.WriteString(c, "250 ok\r\n") }}), 1, 250, io.EOF},
		{"421 sequential", ehloBare, script(exch{cmds: []string{"RCPT TO:<a@"}, reply: "250 ok\r\n"},
			exch{cmds: []string{"RCPT TO:<b@"}, reply: "421 bye\r\n"}), 2, 421, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, s := openScripted(t, append([]exch{banner, tt.ehlo, mailOK}, tt.steps...)...)
			defer s.Close()
			s.Mail(t.Context(), false)
			got, err := s.RcptBatch(t.Context(), []string{"a@example.com", "b@example.com", "c@example.com"})
			if len(got) != tt.wantN || got[len(got)-1].Code != tt.wantLast {
				t.Errorf("RcptBatch replies = %+v, want %d ending in %d", got, tt.wantN, tt.wantLast)
			}
			e := asError(t, err)
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && (e.Reply == nil || e.Reply.Code != 421) {
				t.Errorf("error %v, want the 421 reply", err)
			}
			if s.Alive() {
				t.Error("Alive after failure")
			}
		})
	}
}

func TestPipelineGroups(t *testing.T) {
	// 120 addresses of ~55 octets need two groups under the 4 KiB bound.
	var addrs, cmds []string
	var replies strings.Builder
	for i := range 120 {
		a := "someone.with.a.long.name" + strconv.Itoa(i) + "@example.com"
		addrs = append(addrs, a)
		cmds = append(cmds, "RCPT TO:<"+a+">")
	}
	n1 := 0
	for size := 0; size+len(cmds[n1])+2 <= maxPipelineBytes; n1++ {
		size += len(cmds[n1]) + 2
	}
	for range n1 {
		replies.WriteString("250 ok\r\n")
	}
	rest := strings.Repeat("250 ok\r\n", len(cmds)-n1)
	_, s := openScripted(t, banner, ehloPipe, mailOK,
		exch{cmds: cmds[:n1], reply: replies.String()}, exch{cmds: cmds[n1:], reply: rest})
	s.Mail(t.Context(), false)
	before := s.RoundTrips()
	got, err := s.RcptBatch(t.Context(), addrs)
	if err != nil || len(got) != len(addrs) {
		t.Fatalf("RcptBatch = %d replies, %v", len(got), err)
	}
	if n := s.RoundTrips() - before; n != 2 {
		t.Errorf("RcptBatch took %d round trips, want 2", n)
	}
}

func TestInjection(t *testing.T) {
	srv, s := openScripted(t, banner, ehloPipe)
	ctx := t.Context()
	bad := []string{"a@example.com>\r\nDATA", "a@example.com\nRSET", "a@example.com\r", "a\x00@example.com"}
	for _, a := range bad {
		if _, err := s.Rcpt(ctx, a); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("Rcpt(%q) error %v, want ErrInvalidArgument", a, err)
		}
		if _, err := s.RcptBatch(ctx, []string{"ok@example.com", a}); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("RcptBatch(%q) error %v, want ErrInvalidArgument", a, err)
		}
	}
	if !s.Alive() {
		t.Error("session not alive after rejected arguments")
	}
	s.Quit()
	if got := srv.transcript(); strings.Join(got, "|") != "EHLO probe.test|QUIT" {
		t.Errorf("transcript %q: something was sent", got)
	}

	// The envelope sender and the EHLO name are checked too.
	srv2 := startScripted(t, script(banner, ehloBare))
	p := testProber(srv2.port())
	p.From = "x@probe.test>\r\nDATA"
	s2, err := p.Open(ctx, "mx.test", loopback)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Mail(ctx, false); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("Mail with CRLF in From: %v, want ErrInvalidArgument", err)
	}
	s2.Quit()
	checkNoData(t, srv2.transcript())
	for _, helo := range []string{"", "probe.test\r\nDATA", "two words"} {
		p := testProber(1)
		p.HELO = helo
		if _, err := p.Open(ctx, "mx.test", loopback); err == nil {
			t.Errorf("Open with HELO %q: no error", helo)
		}
	}
}

func TestUnsolicitedData(t *testing.T) {
	// An extra line after the MAIL reply would be taken as the RCPT reply.
	_, s := openScripted(t, banner, ehloBare,
		exch{cmds: []string{"MAIL"}, reply: "250 ok\r\n250 2.1.5 recipient ok\r\n"})
	ctx := t.Context()
	s.Mail(ctx, false)
	// The extra line came in the same write as the reply, so it is already buffered.
	_, err := s.Rcpt(ctx, "jane@example.com")
	if !errors.Is(err, ErrProtocol) {
		t.Errorf("Rcpt after unsolicited data: %v, want ErrProtocol", err)
	}
}

func TestCancel(t *testing.T) {
	tests := []struct {
		name string
		rcpt bool // cancel during RCPT, else during the banner
	}{
		{"during banner", false},
		{"during RCPT", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reached := make(chan struct{})
			wait := func(c net.Conn) { close(reached); hang(c) }
			steps := []exch{{act: wait}}
			if tt.rcpt {
				steps = []exch{banner, ehloBare, mailOK, {cmds: []string{"RCPT"}, act: wait}}
			}
			srv := startScripted(t, steps)
			p := testProber(srv.port())
			p.Timeout = 30 * time.Second
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			go func() {
				select {
				case <-reached:
				case <-time.After(5 * time.Second):
				}
				cancel()
			}()
			done := make(chan error, 1)
			go func() {
				s, err := p.Open(ctx, "mx.test", loopback)
				if err == nil {
					defer s.Close()
					if _, err = s.Mail(ctx, false); err == nil {
						_, err = s.Rcpt(ctx, "jane@example.com")
					}
				}
				done <- err
			}()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("error %v, want context.Canceled", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no return after cancellation")
			}
		})
	}
}

func TestCloseAborts(t *testing.T) {
	reached := make(chan struct{})
	_, s := openScripted(t, banner, ehloBare, mailOK,
		exch{cmds: []string{"RCPT"}, act: func(c net.Conn) { close(reached); hang(c) }})
	s.timeout = 30 * time.Second
	s.Mail(t.Context(), false)
	go func() {
		select {
		case <-reached:
		case <-time.After(5 * time.Second):
		}
		s.Close()
	}()
	done := make(chan error, 1)
	go func() { _, err := s.Rcpt(t.Context(), "jane@example.com"); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("Rcpt aborted by Close: %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not abort Rcpt")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestQuitBounded(t *testing.T) {
	_, s := openScripted(t, banner, ehloBare, exch{cmds: []string{"QUIT"}, act: hang})
	s.timeout = 200 * time.Millisecond // Quit waits min(Timeout, 2s)
	err := s.Quit()
	if e := asError(t, err); e.Step != StepQUIT || !e.Timeout() {
		t.Errorf("Quit error %v, want a timeout at quit", err)
	}
	if s.Alive() {
		t.Error("Alive after Quit")
	}
}

func TestConnectErrors(t *testing.T) {
	// A port nobody listens on: bind one, then close it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	_, err = testProber(port).Open(t.Context(), "mx.test", loopback)
	if e := asError(t, err); e.Step != StepConnect || e.Timeout() || e.Err == nil {
		t.Errorf("refused: %v, want a non-timeout connect error", err)
	}

	// A dialer that never connects: the per-command timeout bounds the connect.
	p := testProber(25)
	p.Timeout = 200 * time.Millisecond
	var gotAddr string
	p.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		gotAddr = addr
		<-ctx.Done()
		return nil, ctx.Err()
	}
	_, err = p.Open(t.Context(), "mx.test", netip.MustParseAddr("::ffff:127.0.0.1"))
	if e := asError(t, err); e.Step != StepConnect || !e.Timeout() {
		t.Errorf("hung dial: %v, want a connect timeout", err)
	}
	if gotAddr != "127.0.0.1:25" {
		t.Errorf("dialled %q, want 127.0.0.1:25", gotAddr)
	}
	p.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		gotAddr = addr
		return nil, errors.New("no")
	}
	p.Open(t.Context(), "mx.test", netip.MustParseAddr("::1"))
	if gotAddr != "[::1]:25" {
		t.Errorf("dialled %q, want [::1]:25", gotAddr)
	}
	if _, err := p.Open(t.Context(), "mx.test", netip.Addr{}); err == nil {
		t.Error("Open with an invalid address: no error")
	}
}

func TestNewSessionPipe(t *testing.T) {
	client, server := net.Pipe()
	srv := &scripted{t: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.serve(server, script(banner, ehloPipe, mailOK, rcpt("jane@example.com", "250 ok\r\n")))
	}()
	t.Cleanup(func() { client.Close(); <-done })
	s, err := testProber(0).NewSession(t.Context(), client, "mx.test")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Extension("PIPELINING"); !ok || s.Host() != "mx.test" || s.TLS() {
		t.Errorf("session: PIPELINING %v host %q TLS %v", ok, s.Host(), s.TLS())
	}
	s.Mail(t.Context(), false)
	if r, err := s.Rcpt(t.Context(), "jane@example.com"); err != nil || r.Code != 250 {
		t.Errorf("Rcpt = %v, %v", r, err)
	}
	if err := s.Quit(); err != nil {
		t.Error(err)
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		e    *Error
		want string
	}{
		{&Error{Step: StepRCPT, Host: "mx.example.com", Reply: &Reply{421, "4.7.0", "too many errors"}},
			"smtpprobe: rcpt at mx.example.com: 421 4.7.0 too many errors"},
		{&Error{Step: StepRCPT, Host: "mx.example.com", Err: os.ErrDeadlineExceeded},
			"smtpprobe: rcpt at mx.example.com: i/o timeout"},
		{&Error{Step: StepMAIL, Host: "mx.example.com", Err: ErrSMTPUTF8Unsupported},
			"smtpprobe: mail at mx.example.com: server does not offer SMTPUTF8"},
		{&Error{Step: StepBanner, Reply: &Reply{Code: 250, Message: "hi"}, Err: ErrProtocol},
			"smtpprobe: banner: 250 hi: protocol error"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	if !(&Error{Err: os.ErrDeadlineExceeded}).Timeout() || !(&Error{Err: context.DeadlineExceeded}).Timeout() ||
		(&Error{Err: io.EOF}).Timeout() || (&Error{Reply: &Reply{Code: 421}}).Timeout() {
		t.Error("Timeout() wrong")
	}
}
