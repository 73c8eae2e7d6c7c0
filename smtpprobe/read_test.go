package smtpprobe

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

const gmail550 = "550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n" +
	"550-5.1.1 double-checking the recipient's email address for typos or\r\n" +
	"550-5.1.1 unnecessary spaces. For more information, go to\r\n" +
	"550 5.1.1  https://support.google.com/mail/?p=NoSuchUser 41be03b00d2f7-b93bf44f0c0si2654830a12.57 - gsmtp\r\n"

func TestReadReply(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Reply
	}{
		{"simple", "250 OK\r\n", Reply{250, "", "OK"}},
		{"enhanced", "250 2.1.5 Ok\r\n", Reply{250, "2.1.5", "Ok"}},
		{"bare LF", "250 2.1.5 Ok\n", Reply{250, "2.1.5", "Ok"}},
		{"code only", "250\r\n", Reply{250, "", ""}},
		{"code and space", "250 \r\n", Reply{250, "", ""}},
		{"postfix", "550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown in virtual mailbox table\r\n",
			Reply{550, "5.1.1", "<nobody@example.com>: Recipient address rejected: User unknown in virtual mailbox table"}},
		{"exchange 5.1.10", "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup\r\n",
			Reply{550, "5.1.10", "RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"}},
		{"qmail no enhanced", "553 sorry, no mailbox here by that name. (#5.7.1)\r\n",
			Reply{553, "", "sorry, no mailbox here by that name. (#5.7.1)"}},
		{"gmail multi-line", gmail550, Reply{550, "5.1.1", "The email account that you tried to reach does not exist. Please try " +
			"double-checking the recipient's email address for typos or unnecessary spaces. For more information, go to " +
			"https://support.google.com/mail/?p=NoSuchUser 41be03b00d2f7-b93bf44f0c0si2654830a12.57 - gsmtp"}},
		{"multi-line banner", "220-mx.example.com ESMTP\r\n220-no UCE\r\n220 ready\r\n", Reply{220, "", "mx.example.com ESMTP no UCE ready"}},
		{"class mismatch ignored", "550 2.1.5 odd\r\n", Reply{550, "", "2.1.5 odd"}},
		{"not a code: 4 digits", "550 5.1.1234 x\r\n", Reply{550, "", "5.1.1234 x"}},
		{"not a code: glued", "550 5.1.1x\r\n", Reply{550, "", "5.1.1x"}},
		{"not a code: two parts", "550 5.1 x\r\n", Reply{550, "", "5.1 x"}},
		{"enhanced only", "452 4.2.2\r\n", Reply{452, "4.2.2", ""}},
		{"later lines keep other codes", "550-5.1.1 a\r\n550 5.7.1 b\r\n", Reply{550, "5.1.1", "a 5.7.1 b"}},
		{"code on final line only (go-smtp)", "550-no such\r\n550 5.1.1 user\r\n", Reply{550, "5.1.1", "no such user"}},
		{"final-line code class mismatch", "550-no such\r\n550 4.1.1 user\r\n", Reply{550, "", "no such 4.1.1 user"}},
		{"empty continuation", "250-\r\n250 ok\r\n", Reply{250, "", "ok"}},
		{"trailing reply untouched", "250 ok\r\n250 next\r\n", Reply{250, "", "ok"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadReply(bufio.NewReader(strings.NewReader(tt.in)), 0, 0)
			if err != nil || got != tt.want {
				t.Errorf("ReadReply(%q) = %+v, %v, want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestReadReplyErrors(t *testing.T) {
	long := "250 " + strings.Repeat("a", 3000) + "\r\n"
	tests := []struct {
		name         string
		in           string
		maxLine, max int
		want         []error
	}{
		{"empty input", "", 0, 0, []error{io.EOF}},
		{"garbled", "hello\r\n", 0, 0, []error{ErrProtocol}},
		{"code 1xx", "150 x\r\n", 0, 0, []error{ErrProtocol}},
		{"code 6xx", "650 x\r\n", 0, 0, []error{ErrProtocol}},
		{"letters", "25x ok\r\n", 0, 0, []error{ErrProtocol}},
		{"bad separator", "250_ok\r\n", 0, 0, []error{ErrProtocol}},
		{"short", "25\r\n", 0, 0, []error{ErrProtocol}},
		{"inconsistent codes", "250-a\r\n251 b\r\n", 0, 0, []error{ErrProtocol}},
		{"continuation then EOF", "250-a\r\n", 0, 0, []error{io.ErrUnexpectedEOF}},
		{"partial line", "250 ok", 0, 0, []error{io.ErrUnexpectedEOF}},
		{"partial continuation", "250-a\r\n250 o", 0, 0, []error{io.ErrUnexpectedEOF}},
		{"line over default cap", long, 0, 0, []error{ErrReplyTooLong, ErrProtocol}},
		{"line over small cap", "250 0123456789\r\n", 10, 0, []error{ErrReplyTooLong}},
		{"line at cap", "250 012345\r\n", 12, 0, nil},
		{"reply over size", strings.Repeat("250-abcdefgh\r\n", 10) + "250 x\r\n", 0, 100, []error{ErrReplyTooLong}},
		{"too many lines", strings.Repeat("250-x\r\n", 300) + "250 x\r\n", 0, 0, []error{ErrReplyTooLong}},
		{"lines at cap", strings.Repeat("250-x\r\n", 255) + "250 x\r\n", 0, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A small buffer exercises lines that span several ReadSlice calls.
			r := bufio.NewReaderSize(strings.NewReader(tt.in), 16)
			_, err := ReadReply(r, tt.maxLine, tt.max)
			if tt.want == nil && err != nil {
				t.Errorf("ReadReply(%.40q) error %v, want nil", tt.in, err)
			}
			if tt.want != nil && err == nil {
				t.Errorf("ReadReply(%.40q) error nil, want %v", tt.in, tt.want)
			}
			for _, w := range tt.want {
				if !errors.Is(err, w) {
					t.Errorf("ReadReply(%.40q) error %v, want errors.Is %v", tt.in, err, w)
				}
			}
		})
	}
}

// TestReadReplySequence checks that consecutive replies (pipelining) are read one by one
// from one reader, with line buffers reused across lines.
func TestReadReplySequence(t *testing.T) {
	in := "250 2.1.5 a\r\n" + gmail550 + "452-4.2.2 " + strings.Repeat("q", 40) + "\r\n452 4.2.2 full\r\n"
	r := bufio.NewReaderSize(strings.NewReader(in), 16)
	want := []Reply{{250, "2.1.5", "a"}, {550, "5.1.1", ""}, {452, "4.2.2", strings.Repeat("q", 40) + " full"}}
	for i, w := range want {
		got, err := ReadReply(r, 0, 0)
		if err != nil || got.Code != w.Code || got.Enhanced != w.Enhanced || (w.Message != "" && got.Message != w.Message) {
			t.Fatalf("reply %d = %+v, %v, want %+v", i, got, err, w)
		}
	}
	if _, err := ReadReply(r, 0, 0); err != io.EOF {
		t.Errorf("after last reply: %v, want io.EOF", err)
	}
}

// TestReadReplyBoundedRead checks that an oversized line is not read to its end.
func TestReadReplyBoundedRead(t *testing.T) {
	src := &countingReader{r: strings.NewReader("250 " + strings.Repeat("a", 10<<20) + "\r\n")}
	_, err := ReadReply(bufio.NewReader(src), 0, 0)
	if !errors.Is(err, ErrReplyTooLong) {
		t.Fatalf("error %v, want ErrReplyTooLong", err)
	}
	if src.n > defaultMaxLineLen+8192 {
		t.Errorf("read %d octets of a 10 MB line, want about %d", src.n, defaultMaxLineLen)
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func BenchmarkReadReply(b *testing.B) {
	for _, bm := range []struct{ name, in string }{
		{"single", "250 2.1.5 Ok\r\n"},
		{"gmail550", gmail550},
		{"ehlo", "250-mx.example.com Hello\r\n250-PIPELINING\r\n250-SIZE 35882577\r\n250-8BITMIME\r\n250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250-CHUNKING\r\n250 SMTPUTF8\r\n"},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			sr := strings.NewReader(bm.in)
			r := bufio.NewReader(sr)
			for b.Loop() {
				sr.Reset(bm.in)
				r.Reset(sr)
				if _, err := ReadReply(r, 0, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
