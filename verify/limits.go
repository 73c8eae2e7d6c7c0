package verify

import (
	"strings"

	"github.com/everify/everify/sched"
	"github.com/everify/everify/smtpprobe"
)

// SchedulerKind tells the SMTP scheduler what a reply means for its queues: accepted,
// a refused mailbox (the domain checks recipients, so it is not catch-all), or one of
// the limits servers show (too many recipients, errors, connections). With
// [ClassifyReply] it is the only code that reads reply text.
func SchedulerKind(step smtpprobe.Step, r smtpprobe.Reply) sched.Kind {
	switch {
	case r.Positive():
		return sched.KindAccepted
	case tooManyRecipients(r):
		return sched.KindTooManyRecipients
	case r.Code == 421:
		t := strings.ToLower(r.Message)
		switch {
		case strings.Contains(t, "too many errors"), strings.Contains(t, "too many invalid"),
			strings.Contains(t, "too many bad"), strings.Contains(t, "error limit"):
			return sched.KindTooManyErrors
		case strings.Contains(t, "too many connections"), strings.Contains(t, "too many concurrent"),
			strings.Contains(t, "too many sessions"), strings.Contains(t, "connection limit"):
			return sched.KindTooManyConnections
		}
		return sched.KindOther
	case step == smtpprobe.StepRCPT && ClassifyReply(step, r).Status() == StatusUndeliverable:
		return sched.KindNoMailbox
	}
	return sched.KindOther
}

// tooManyRecipients reports whether r refuses a recipient because the transaction has
// too many (RFC 5321 §4.5.3.1.10: 452, formerly 552; RFC 3463 X.5.3).
func tooManyRecipients(r smtpprobe.Reply) bool {
	if r.Code != 452 && r.Code != 552 {
		return false
	}
	return r.Enhanced == "4.5.3" || r.Enhanced == "5.5.3" ||
		strings.Contains(strings.ToLower(r.Message), "too many recipients")
}
