package sched_test

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
)

// script is a minimal SMTP server for scripted tests. It greets, offers PIPELINING,
// answers EHLO and RSET with 250, MAIL with what mail returns (250 when nil), and RCPT
// with what rcpt returns: nothing at all for "". Every reply but EHLO's goes through
// sent, when set. Sessions are numbered from 1; inTx says a MAIL was accepted since the
// last RSET.
type script struct {
	mail     func() string
	rcpt     func(session int, inTx bool, cmd string) string
	sent     func(session int, reply string)
	sessions atomic.Int32
}

func (sc *script) serve(c net.Conn) {
	n := int(sc.sessions.Add(1))
	reply := func(line string) {
		if sc.sent != nil {
			sc.sent(n, line)
		}
		fmt.Fprintf(c, "%s\r\n", line)
	}
	br := bufio.NewReader(c)
	fmt.Fprintf(c, "220 mx.script.zz ESMTP\r\n")
	inTx := false
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.TrimSpace(line)
		switch verb := strings.ToUpper(cmd); {
		case strings.HasPrefix(verb, "EHLO"):
			fmt.Fprintf(c, "250-mx.script.zz\r\n250 PIPELINING\r\n")
		case strings.HasPrefix(verb, "MAIL"):
			r := "250 2.1.0 Ok"
			if sc.mail != nil {
				r = sc.mail()
			}
			inTx = r[0] == '2'
			reply(r)
		case strings.HasPrefix(verb, "RSET"):
			inTx = false
			reply("250 2.0.0 Ok")
		case strings.HasPrefix(verb, "RCPT"):
			if r := sc.rcpt(n, inTx, cmd); r != "" {
				reply(r)
			}
		case strings.HasPrefix(verb, "QUIT"):
			reply("221 2.0.0 Bye")
			return
		}
	}
}
