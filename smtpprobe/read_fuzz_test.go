package smtpprobe

import (
	"bufio"
	"strings"
	"testing"
)

// FuzzReadReply: whatever a server sends, ReadReply returns without panicking, within
// its bounds, and a reply it accepts is well-formed.
//
//	go test ./smtpprobe -run '^$' -fuzz '^FuzzReadReply$' -fuzztime 60s
func FuzzReadReply(f *testing.F) {
	for _, s := range []string{
		"220 mx.example.com ESMTP Postfix\r\n",
		"250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 SMTPUTF8\r\n",
		"550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n550-5.1.1 double-checking the recipient's email address\r\n550 5.1.1  https://support.google.com/mail/?p=NoSuchUser - gsmtp\r\n",
		"550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup\r\n",
		"511 sorry, no mailbox here by that name (#5.1.1)\n",
		"250-x\r\n251 mismatched\r\n",
		"hello world\r\n",
		"25",
		"421 4.7.0 mx Error: too many errors\r\n",
		"\xff\xfe\x00\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		const maxLine, maxSize = 128, 1024
		r, err := ReadReply(bufio.NewReaderSize(strings.NewReader(in), 16), maxLine, maxSize)
		if err != nil {
			return
		}
		if r.Code < 100 || r.Code > 599 {
			t.Errorf("ReadReply(%q) code %d", in, r.Code)
		}
		if len(r.Message) > maxSize {
			t.Errorf("ReadReply(%q) message of %d octets, bound %d", in, len(r.Message), maxSize)
		}
		if r.Enhanced != "" && r.Enhanced[0] != byte('0'+r.Code/100) {
			t.Errorf("ReadReply(%q) enhanced %q does not match code %d", in, r.Enhanced, r.Code)
		}
		if strings.ContainsAny(r.Message, "\r\n") {
			t.Errorf("ReadReply(%q) message %q holds a line break", in, r.Message)
		}
	})
}
