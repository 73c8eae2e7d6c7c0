package verify

import (
	"context"
	"strings"
	"time"

	"github.com/everify/everify/dnscheck"
	"github.com/everify/everify/sched"
)

// newScheduler returns the SMTP scheduler of v: it batches v's recipients onto shared
// sessions, per server address (see package sched).
func (v *Verifier) newScheduler() *sched.Scheduler {
	return sched.New(sched.Config{
		Prober:         v.SMTP,
		Classify:       SchedulerKind,
		PerServer:      v.PerMX,
		RcptPerSession: v.RcptPerConn,
		MaxRejects:     v.MaxRejects,
		MaxHosts:       v.MaxMXHosts,
		Linger:         v.Linger,
	})
}

// probe runs the SMTP stage for r, whose syntax and DNS stages passed; its
// verification started at start (the scheduler serves older addresses first).
func (v *Verifier) probe(ctx context.Context, r *Result, hosts []dnscheck.Host, start time.Time) error {
	req := sched.Request{
		Started:  start,
		Addr:     r.Syntax.Local + "@" + r.Syntax.ASCIIDomain,
		Domain:   r.Syntax.ASCIIDomain,
		UTF8:     r.Syntax.SMTPUTF8,
		Hosts:    hosts,
		CatchAll: !v.NoCatchAll,
	}
	out, err := v.sched.Probe(ctx, req)
	if err != nil {
		return v.probeCanceled(r, err)
	}
	if retryable(out) && v.GreylistRetry > 0 {
		t := time.NewTimer(v.GreylistRetry)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			fill(r, out) // keep the first attempt's reply
			return v.probeCanceled(r, ctx.Err())
		}
		if out, err = v.sched.Probe(ctx, req); err != nil {
			return v.probeCanceled(r, err)
		}
	}
	fill(r, out)
	if out.Fail != sched.FailNone {
		r.setReason(failReason[out.Fail])
		return nil
	}
	reason := ClassifyReply(out.Step, out.Reply)
	if reason == ReasonAccepted && out.CatchAll == sched.CatchAllYes {
		// An inconclusive catch-all probe never turns an accepted recipient into catch_all.
		r.SMTP.CatchAll = true
		reason = ReasonCatchAll
	}
	r.setReason(reason)
	return nil
}

// failReason is the reason of an outcome without a deciding reply.
var failReason = map[sched.Fail]Reason{
	sched.FailTimeout:     ReasonSMTPTimeout,
	sched.FailUnreachable: ReasonSMTPUnreachable,
	sched.FailProtocol:    ReasonSMTPProtocolError,
	sched.FailSMTPUTF8:    ReasonSMTPUTF8Unsupported,
	sched.FailTemporary:   ReasonSMTPTempFailure,
	sched.FailClosed:      ReasonSMTPTimeout,
}

// retryable reports whether a greylist retry can help.
func retryable(out sched.Outcome) bool {
	if out.Fail != sched.FailNone {
		return out.Fail == sched.FailTemporary
	}
	return out.Reply.Transient() && ClassifyReply(out.Step, out.Reply) == ReasonSMTPTempFailure
}

// fill copies the SMTP evidence of out into r.
func fill(r *Result, out sched.Outcome) {
	r.SMTP.Checked = out.Checked
	r.SMTP.MX = out.Host
	r.SMTP.TLS = out.TLS
	r.SMTP.Code = out.Reply.Code
	r.SMTP.EnhancedCode = out.Reply.Enhanced
	// As in the record of docs: the reply text after the basic code, enhanced code included.
	r.SMTP.Message = strings.TrimSpace(out.Reply.Enhanced + " " + out.Reply.Message)
	if out.Message != "" && out.Reply.Code == 0 {
		r.SMTP.Message = out.Message
	}
}

// probeCanceled records that the per-address deadline ended the probe. The caller
// reports cancellation of its own ctx as an error instead.
func (v *Verifier) probeCanceled(r *Result, err error) error {
	r.setReason(ReasonSMTPTimeout)
	if r.SMTP.Message == "" {
		r.SMTP.Message = "no verdict within the per-address time limit"
	}
	return err
}
