package verify

import (
	"fmt"
	"testing"

	"github.com/everify/everify/smtpprobe"
)

// smtpReply builds a Reply; tests read better with the three fields in a row.
func smtpReply(code int, enhanced, msg string) smtpprobe.Reply {
	return smtpprobe.Reply{Code: code, Enhanced: enhanced, Message: msg}
}

const (
	atBanner = smtpprobe.StepBanner
	atEHLO   = smtpprobe.StepEHLO
	atMAIL   = smtpprobe.StepMAIL
	atRCPT   = smtpprobe.StepRCPT
)

// verdictTests are real server wordings (multi-line replies joined with a space, as
// smtpprobe does), each tagged with the MTA or provider that sends it.
var verdictTests = []struct {
	step smtpprobe.Step
	r    smtpprobe.Reply
	want Reason
}{
	// STYLE.md rows.
	{atRCPT, smtpReply(550, "5.1.1", "User unknown"), ReasonMailboxNotFound},
	{atRCPT, smtpReply(554, "5.7.1", "Client host blocked by zen.spamhaus.org"), ReasonSMTPBlocked},
	{atRCPT, smtpReply(451, "4.7.1", "Greylisted, try again later"), ReasonSMTPTempFailure},

	// Gmail / Google Workspace.
	{atRCPT, smtpReply(550, "5.1.1", "The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. Learn more at https://support.google.com/mail/?p=NoSuchUser s19si71853ejd.408 - gsmtp"), ReasonMailboxNotFound},
	{atRCPT, smtpReply(550, "5.1.1", "The email account that you tried to reach does not exist. Please try 5.1.1 double-checking the recipient's email address for typos or 5.1.1 unnecessary spaces. Learn more at 5.1.1  https://support.google.com/mail/?p=NoSuchUser c29si2155252wrc.110 - gsmtp"), ReasonMailboxNotFound}, // per-line codes kept
	{atRCPT, smtpReply(550, "5.2.1", "The email account that you tried to reach is disabled. Learn more at https://support.google.com/mail/?p=DisabledUser a1si123 - gsmtp"), ReasonMailboxDisabled},
	{atRCPT, smtpReply(552, "5.2.2", "The email account that you tried to reach is over quota and inactive. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaPerm a2si1 - gsmtp"), ReasonMailboxFull}, // "inactive" does not beat 5.2.2
	{atRCPT, smtpReply(452, "4.2.2", "The email account that you tried to reach is over quota. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaTemp a3si2 - gsmtp"), ReasonMailboxFull},
	{atRCPT, smtpReply(550, "5.2.1", "The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered. Please resend your message at a later time. If the user is able to receive mail at that time, your message will be delivered. For more information, go to https://support.google.com/mail/?p=ReceivingRatePerm a4si3 - gsmtp"), ReasonSMTPTempFailure},
	{atRCPT, smtpReply(450, "4.2.1", "The user you are trying to contact is receiving mail too quickly. Please resend your message at a later time. https://support.google.com/mail/?p=ReceivingRate a5si4 - gsmtp"), ReasonSMTPTempFailure},
	{atRCPT, smtpReply(421, "4.7.28", "[192.0.2.1] Our system has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been temporarily rate limited. Please visit https://support.google.com/mail/?p=UnsolicitedRateLimitError to review our Bulk Email Senders Guidelines. a6si5 - gsmtp"), ReasonSMTPTempFailure},
	{atRCPT, smtpReply(550, "5.7.1", "[192.0.2.1] Our system has detected that this message is likely unsolicited mail. To reduce the amount of spam sent to Gmail, this message has been blocked. Please visit https://support.google.com/mail/?p=UnsolicitedMessageError a7si6 - gsmtp"), ReasonSMTPBlocked},
	{atRCPT, smtpReply(421, "4.7.0", "[192.0.2.1] Our system has detected that this message is suspicious due to the very low reputation of the sending IP address. To best protect our users from spam, the message has been blocked. a8si7 - gsmtp"), ReasonSMTPBlocked}, // reputation: waiting will not help
	{atRCPT, smtpReply(550, "5.7.25", "[192.0.2.1] The IP address sending this message does not have a PTR record setup, or the corresponding forward DNS entry does not point to the sending IP. a9si8 - gsmtp"), ReasonSMTPBlocked},
	{atEHLO, smtpReply(421, "4.7.0", "Try again later, closing connection. (EHLO) a10si9 - gsmtp"), ReasonSMTPTempFailure},
	{atMAIL, smtpReply(530, "5.7.0", "Must issue a STARTTLS command first. a11si10 - gsmtp"), ReasonSMTPBlocked},

	// Microsoft 365 / Exchange Online / Outlook.com.
	{atRCPT, smtpReply(550, "5.1.10", "RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"), ReasonMailboxNotFound},
	{atRCPT, smtpReply(550, "5.4.1", "Recipient address rejected: Access denied. AS(201806281) [DM6NAM11FT012.eop-nam11.prod.protection.outlook.com 2024-01-01T00:00:00.000Z 08DC0A]"), ReasonMailboxNotFound}, // directory-based edge blocking
	{atRCPT, smtpReply(550, "5.5.0", "Requested action not taken: mailbox unavailable (S2017062302). [AM1EUR02FT004.eop-EUR02.prod.protection.outlook.com]"), ReasonMailboxNotFound},                           // Outlook.com unknown user
	{atRCPT, smtpReply(550, "5.7.606", "Access denied, banned sending IP [192.0.2.1]. To request removal from this list please visit https://sender.office.com/ and follow the directions."), ReasonSMTPBlocked},
	{atRCPT, smtpReply(550, "5.7.1", "Unfortunately, messages from [192.0.2.1] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3140)."), ReasonSMTPBlocked},
	{atRCPT, smtpReply(550, "", "SC-001 (BAY004-MC1F41) Unfortunately, messages from 192.0.2.1 weren't sent. Please contact your Internet service provider since part of their network is on our block list."), ReasonSMTPBlocked}, // Outlook.com, no enhanced code
	{atRCPT, smtpReply(451, "4.7.500", "Server busy. Please try again later from [192.0.2.1]. (AS770) [BN8NAM12FT055.eop-nam12.prod.protection.outlook.com]"), ReasonSMTPTempFailure},
	{atRCPT, smtpReply(452, "4.5.3", "Too many recipients (AS780090)"), ReasonSMTPTempFailure},
	{atRCPT, smtpReply(550, "5.1.8", "Access denied, bad outbound sender AS(42003)"), ReasonSMTPBlocked},
	{atRCPT, smtpReply(554, "5.2.2", "mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException.MapiExceptionShutoffQuotaExceeded"), ReasonMailboxFull},
	{atRCPT, smtpReply(550, "5.4.1", "Relay Access Denied"), ReasonSMTPBlocked}, // Exchange on-premises, domain not accepted
	{atRCPT, smtpReply(550, "5.7.129", "RESOLVER.RST.RestrictedToRecipientsPermission; not authorized to send to this group"), ReasonSMTPBlocked},

	// Postfix.
	{atRCPT, smtpReply(550, "5.1.1", "<jane@example.com>: Recipient address rejected: User unknown in virtual mailbox table"), ReasonMailboxNotFound},
	{atRCPT, smtpReply(550, "5.1.1", "<jane@example.com>: Recipient address rejected: User unknown in local recipient table"), ReasonMailboxNotFound},
	{atRCPT, smtpReply(554, "5.7.1", "<jane@example.com>: Relay access denied"), ReasonSMTPBlocked},
	{atRCPT, smtpReply(450, "4.1.2", "<jane@nowhere.example>: Recipient address rejected: Domain not found"), ReasonSMTPTempFailure},
	{atRCPT, smtpReply(450, "4.2.0", "<jane@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html"), ReasonSMTPTempFailure},
	{atRCPT, smtpReply(554, "5.7.1", "Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.1"), ReasonSMTPBlocked},
	{atRCPT, smtpReply(450, "4.7.1", "Client host rejected: cannot find your hostname, [192.0.2.1]"), ReasonSMTPBlocked},
	{atRCPT, smtpReply(550, "5.1.0", "<verify@prober.example>: Sender address rejected: User unknown in local recipient table"), ReasonSMTPBlocked}, // smtpd_delay_reject: our sender, at RCPT
	{atRCPT, smtpReply(553, "5.1.8", "<verify@prober.example>: Sender address rejected: Domain not found"), ReasonSMTPBlocked},
	{atRCPT, smtpReply(550, "5.1.6", "<jane@example.com>: Recipient address rejected: User has moved to jane@new.example"), ReasonMailboxNotFound},
	{atRCPT, smtpReply(501, "5.1.3", "Bad recipient address syntax"), ReasonMailboxNotFound},
	{atRCPT, smtpReply(452, "4.5.3", "Error: too many recipients"), ReasonSMTPTempFailure},
	{atRCPT, smtpReply(503, "5.5.1", "Error: need MAIL command"), ReasonSMTPProtocolError},
	{atRCPT, smtpReply(552, "5.2.2", "<jane@example.com>: Recipient address rejected: Mailbox full"), ReasonMailboxFull},
	{atRCPT, smtpReply(450, "4.1.1", "<jane@example.com>: Recipient address rejected: unverified address: connect to mx.example.com[192.0.2.9]:25: Connection timed out"), ReasonSMTPTempFailure},
	{atBanner, smtpReply(554, "5.7.1", "<unknown[192.0.2.1]>: Client host rejected: Access denied"), ReasonSMTPBlocked},
	{atBanner, smtpReply(421, "4.7.0", "mx.example.com Error: too many connections from 192.0.2.1"), ReasonSMTPTempFailure},
	{atMAIL, smtpReply(553, "5.7.1", "<verify@prober.example>: Sender address rejected: not owned by user verify@prober.example"), ReasonSMTPBlocked},
	{atMAIL, smtpReply(450, "4.1.8", "<verify@prober.example>: Sender address rejected: Domain not found"), ReasonSMTPBlocked},
	{atEHLO, smtpReply(504, "5.5.2", "<localhost>: Helo command rejected: need fully-qualified hostname"), ReasonSMTPBlocked},

	// Exim (no enhanced codes by default).
	{atRCPT, smtpReply(550, "", "Unrouteable address"), ReasonMailboxNotFound},
	{atRCPT, smtpReply(550, "", "Unknown user"), ReasonMailboxNotFound},
	{atRCPT, smtpReply(550, "", "No Such User Here"), ReasonMailboxNotFound}, // cPanel
	{atRCPT, smtpReply(550, "", "Callout verification failed: 550 5.1.1 <jane@example.com>: Recipient address rejected: User unknown"), ReasonMailboxNotFound},
	{atRCPT, smtpReply(550, "", "Verification failed for <verify@prober.example> Unrouteable address Sender verify failed"), ReasonSMTPBlocked}, // about our sender, though it says "unrouteable"
	{atRCPT, smtpReply(550, "", "relay not permitted"), ReasonSMTPBlocked},
	{atRCPT, smtpReply(550, "", "Administrative prohibition"), ReasonSMTPBlocked},
	{atRCPT, smtpReply(550, "", "rejected because 192.0.2.1 is in a black list at zen.spamhaus.org"), ReasonSMTPBlocked},
	{atRCPT, smtpReply(550, "", "The mail server could not deliver mail to jane@example.com. The account or domain may not exist, they may be blacklisted, or missing the proper dns entries."), ReasonSMTPBlocked}, // cPanel: says both
	{atRCPT, smtpReply(451, "", "Temporary local problem - please try later"), ReasonSMTPTempFailure},
	{atRCPT, smtpReply(550, "", "Mailbox quota exceeded"), ReasonMailboxFull},
	{atBanner, smtpReply(421, "", "Too many concurrent SMTP connections; please try again later."), ReasonSMTPTempFailure},

	// qmail / netqmail / vpopmail: codes in the text, "(#5.1.1)".
	{atRCPT, smtpReply(511, "", "sorry, no mailbox here by that name (#5.1.1)"), ReasonMailboxNotFound},
	{atRCPT, smtpReply(553, "", "sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)"), ReasonSMTPBlocked},
	{atRCPT, smtpReply(550, "", "sorry, no mailbox here by that name. (#5.7.17)"), ReasonSMTPBlocked}, // vpopmail: 5.7.x is never undeliverable
	{atRCPT, smtpReply(550, "5.1.1", "sorry, no mailbox here by that name (#5.1.1 - chkuser)"), ReasonMailboxNotFound},
	{atRCPT, smtpReply(451, "", "qqt failure (#4.3.0)"), ReasonSMTPTempFailure},
	{atMAIL, smtpReply(553, "", "sorry, your envelope sender has been denied (#5.7.1)"), ReasonSMTPBlocked},
	{atBanner, smtpReply(421, "", "unable to read controls (#4.3.0)"), ReasonSMTPTempFailure},
	{atRCPT, smtpReply(503, "", "MAIL first (#5.5.1)"), ReasonSMTPProtocolError},
	{atRCPT, smtpReply(550, "", "#5.1.0 Address rejected."), ReasonMailboxNotFound},

	// Yahoo / AOL / Verizon.
	{atRCPT, smtpReply(552, "", "1 Requested mail action aborted, mailbox not found"), ReasonMailboxNotFound}, // 552 text beats the storage meaning
	{atRCPT, smtpReply(554, "", "delivery error: dd This user doesn't have a yahoo.com account (jane@yahoo.com) [-5] - mta1325.mail.gq1.yahoo.com"), ReasonMailboxNotFound},
	{atRCPT, smtpReply(554, "", "delivery error: dd Sorry your message to jane@yahoo.com cannot be delivered. This mailbox is disabled (554.30). - mta4471.mail.bf1.yahoo.com"), ReasonMailboxDisabled},
	{atRCPT, smtpReply(554, "", "delivery error: dd This account has been disabled or discontinued [#102]. - mta1004.mail.ukl.yahoo.com"), ReasonMailboxDisabled},
	{atBanner, smtpReply(553, "5.7.1", "[BL21] Connections will not be accepted from 192.0.2.1, because the ip is in Spamhaus's list; see http://postmaster.yahoo.com/550-bl23.html"), ReasonSMTPBlocked},
	{atRCPT, smtpReply(421, "4.7.0", "[TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes"), ReasonSMTPTempFailure},
	{atRCPT, smtpReply(554, "5.7.9", "Message not accepted for policy reasons.  See https://help.yahoo.com/kb/postmaster/SLN7253.html"), ReasonSMTPBlocked},
	{atRCPT, smtpReply(550, "", "MAILBOX NOT FOUND"), ReasonMailboxNotFound}, // AOL
	{atRCPT, smtpReply(554, "", "RLY:B1 https://postmaster.aol.com/error-codes#554rlyb1"), ReasonSMTPBlocked},
	{atBanner, smtpReply(421, "", "4.7.1 : (DYN:T1) https://postmaster.aol.com/error-codes#421dynt1"), ReasonSMTPTempFailure},

	// Others.
	{atRCPT, smtpReply(550, "", "Requested action not taken: mailbox unavailable"), ReasonMailboxNotFound},                                                           // RFC 5321 text
	{atRCPT, smtpReply(550, "", "Invalid Recipient - https://community.mimecast.com/docs/DOC-1369#550 [aBcDeF.us1]"), ReasonMailboxNotFound},                         // Mimecast
	{atRCPT, smtpReply(550, "", "Administrative prohibition - envelope blocked - https://community.mimecast.com/docs/DOC-1369#550 [aBcDeF.us1]"), ReasonSMTPBlocked}, // Mimecast
	{atRCPT, smtpReply(550, "", "Invalid recipient"), ReasonMailboxNotFound},                                                                                         // OpenSMTPD
	{atRCPT, smtpReply(550, "5.1.1", "No such user - psmtp"), ReasonMailboxNotFound},                                                                                 // Postini
	{atRCPT, smtpReply(550, "5.1.1", "User Unknown"), ReasonMailboxNotFound},                                                                                         // Proofpoint
	{atRCPT, smtpReply(421, "", "Recipient not in route list"), ReasonSMTPTempFailure},                                                                               // hMailServer
	{atRCPT, smtpReply(550, "", "5.1.1 <jane@example.com>... User unknown"), ReasonMailboxNotFound},                                                                  // Sendmail, code left in text
	{atRCPT, smtpReply(550, "5.0.0", "Requested action not taken: mailbox unavailable"), ReasonMailboxNotFound},
	{atRCPT, smtpReply(550, "5.0.0", "Your IP 192.0.2.1 is listed at bl.spamcop.net"), ReasonSMTPBlocked},
	{atRCPT, smtpReply(550, "5.0.0", "Access denied"), ReasonSMTPBlocked},
	{atRCPT, smtpReply(550, "", ""), ReasonMailboxNotFound},               // bare 550: RFC 5321 "mailbox unavailable"
	{atRCPT, smtpReply(554, "", "Transaction failed"), ReasonSMTPBlocked}, // bare 554: mostly policy
	{atRCPT, smtpReply(552, "", ""), ReasonMailboxFull},
	{atRCPT, smtpReply(551, "", "User not local; please try <jane@other.example>"), ReasonMailboxNotFound},
	{atRCPT, smtpReply(550, "", "<rbl@example.com>: no such user"), ReasonMailboxNotFound}, // echoed address is not a blocklist word
	{atRCPT, smtpReply(550, "", "Too many invalid recipients"), ReasonSMTPBlocked},
	{atRCPT, smtpReply(451, "4.3.0", "Temporary lookup failure"), ReasonSMTPTempFailure},
	{atRCPT, smtpReply(550, "5.3.0", "Mail system error"), ReasonSMTPTempFailure},
	{atRCPT, smtpReply(554, "5.4.4", "Unable to route"), ReasonSMTPTempFailure},
	{atRCPT, smtpReply(452, "", "Requested action not taken: insufficient system storage"), ReasonSMTPTempFailure}, // the server's disk, not the mailbox
	{atRCPT, smtpReply(452, "", "Insufficient storage for jane"), ReasonMailboxFull},
	{atRCPT, smtpReply(451, "4.7.1", "Sender quota exceeded"), ReasonSMTPTempFailure}, // a quota on us
	{atRCPT, smtpReply(550, "4.2.2", "Mailbox full"), ReasonMailboxFull},              // class mismatch: the basic code rules
	{atRCPT, smtpReply(450, "5.1.1", "User unknown"), ReasonSMTPTempFailure},          // a 4xx is never final
	{atRCPT, smtpReply(550, "2.0.0", "User unknown"), ReasonMailboxNotFound},          // a 2.x.x on a failure is ignored
	{atRCPT, smtpReply(550, "5.2.0", "Account inactive"), ReasonMailboxDisabled},
	{atRCPT, smtpReply(550, "5.2.0", ""), ReasonMailboxNotFound},
	{atRCPT, smtpReply(550, "", "Account suspended"), ReasonMailboxDisabled},
	{atRCPT, smtpReply(550, "", "Dieses Konto ist unbekannt"), ReasonMailboxNotFound}, // unrecognized text: bare-code fallback

	// Issue 10: unspecific codes (5.0.0, 5.3.0, none) with a text about the addressee;
	// filtering appliances that block the prober; one or more public wordings of each
	// provider and appliance users meet most, with where it comes from.
	{atRCPT, smtpReply(553, "5.3.0", "<jane@example.com>... Addressee unknown"), ReasonMailboxNotFound},                                                                                               // Sendmail (issue 10 sample)
	{atRCPT, smtpReply(550, "5.0.0", "<jane@example.com>... Addressee unknown, relay=[192.0.2.1]"), ReasonMailboxNotFound},                                                                            // Sendmail with its relay= echo (the form of AT&T's samples, smtp.codes/550)
	{atRCPT, smtpReply(554, "", "delivery error: dd Not a valid recipient - atlas117.free.mail.bf1.yahoo.com"), ReasonMailboxNotFound},                                                                // AOL on Yahoo's platform (issue 10 sample)
	{atRCPT, smtpReply(550, "", "permanent failure for one or more recipients (jane@example.com:blocked)"), ReasonSMTPBlocked},                                                                        // Barracuda ESS (issue 10 sample; suped.com on Barracuda bounces)
	{atRCPT, smtpReply(550, "", "cuda_nsu 5.1.1 <jane@example.com> Recipient address rejected: User unknown"), ReasonMailboxNotFound},                                                                 // Barracuda (smtp.codes/550)
	{atRCPT, smtpReply(550, "", "No such user (jane@example.com)"), ReasonMailboxNotFound},                                                                                                            // Barracuda (smtp.codes/550)
	{atRCPT, smtpReply(554, "", "Service unavailable; Client host [192.0.2.1] blocked using Barracuda Reputation; http://www.barracudanetworks.com/reputation/?r=1&ip=192.0.2.1"), ReasonSMTPBlocked}, // Barracuda (MIT CSAIL TIG bounce sample)
	{atRCPT, smtpReply(550, "5.7.26", "This mail is unauthenticated, which poses a security risk to the sender and Gmail users, and has been blocked. The sender must authenticate with at least one of SPF or DKIM. For this message, DKIM checks did not pass and SPF check for [example.org] did not pass with ip: [192.0.2.1]. To best protect our users from spam, the message has been blocked. Please visit https://support.google.com/mail/answer/81126#authentication for more information. a1si2 - gsmtp"), ReasonSMTPBlocked}, // Gmail (Google's sender guidelines)
	{atRCPT, smtpReply(550, "5.7.1", "The user or domain that you are sending to (or from) has a policy that prohibited the mail that you sent. Please contact your domain administrator for further details. For more information, visit https://support.google.com/a/answer/172179 a2si3 - gsmtp"), ReasonSMTPBlocked},                                                                                                                                                                                                                 // Google Workspace (support.google.com/a/answer/3726730, SMTP error reference)
	{atRCPT, smtpReply(550, "5.1.1", "RESOLVER.ADR.RecipNotFound; not found"), ReasonMailboxNotFound},                                                                                                                                                       // Exchange Online (learn.microsoft.com, NDR 5.1.1)
	{atRCPT, smtpReply(550, "5.7.708", "Service unavailable. Access denied, traffic not accepted from this IP. For more information please go to http://go.microsoft.com/fwlink/?LinkId=526653 AS(7001)"), ReasonSMTPBlocked},                               // Exchange Online (learn.microsoft.com, NDR 5.7.708)
	{atRCPT, smtpReply(550, "5.7.1", "Service unavailable, Client host [192.0.2.1] blocked using Spamhaus. To request removal from this list see https://www.spamhaus.org/query/ip/192.0.2.1 AS(1410)"), ReasonSMTPBlocked},                                 // Outlook.com / Exchange Online (learn.microsoft.com, NDR 5.7.1)
	{atRCPT, smtpReply(553, "5.7.2", "[TSS09] All messages from 192.0.2.1 will be permanently deferred; Retrying will NOT succeed. See https://postmaster.yahooinc.com/error-codes"), ReasonSMTPBlocked},                                                    // Yahoo (postmaster.yahooinc.com/error-codes)
	{atRCPT, smtpReply(554, "", "delivery error: dd This user doesn't have a verizon.net account (jane@verizon.net) [0] - mta1012.mail.gq1.yahoo.com"), ReasonMailboxNotFound},                                                                              // Verizon (verizon.net mail runs on Yahoo's platform since 2017; Yahoo's dd wording, mailchannels.com top SMTP errors)
	{atRCPT, smtpReply(550, "5.1.1", "<jane@icloud.com>: user does not exist"), ReasonMailboxNotFound},                                                                                                                                                      // iCloud (smtp.codes/icloud)
	{atRCPT, smtpReply(550, "5.7.1", "[CS01] Message rejected due to local policy. Please visit https://support.apple.com/en-us/HT204137"), ReasonSMTPBlocked},                                                                                              // iCloud (smtp.codes/icloud)
	{atRCPT, smtpReply(421, "4.7.1", "Messages to jane@icloud.com deferred due to excessive volume. Try again later - https://support.apple.com/en-us/HT204137"), ReasonSMTPTempFailure},                                                                    // iCloud (smtp.codes/icloud)
	{atRCPT, smtpReply(550, "5.1.1", "<jane@proton.me>: Recipient address rejected: User unknown in virtual mailbox table"), ReasonMailboxNotFound},                                                                                                         // Proton (Postfix front end; proton.me/support/smtp-errors)
	{atRCPT, smtpReply(550, "5.1.1", "<jane@zoho.com> User unknown"), ReasonMailboxNotFound},                                                                                                                                                                // Zoho (smtp.codes/zoho)
	{atRCPT, smtpReply(452, "", "<jane@zoho.com> Mailbox delivery restricted by policy error"), ReasonSMTPTempFailure},                                                                                                                                      // Zoho (smtp.codes/zoho): a 4xx is never final
	{atRCPT, smtpReply(550, "", "<jane@gmx.net>: Requested action not taken: mailbox unavailable"), ReasonMailboxNotFound},                                                                                                                                  // GMX and Web.de, no enhanced codes (smtp.codes/unitedinternet)
	{atBanner, smtpReply(554, "", "gmx.net (mxgmx104) Nemesis ESMTP Service not available No SMTP service IP address is block listed. For explanation visit https://postmaster.gmx.net/en/case?c=r0201&i=ip&v=192.0.2.1&r=1MNcgj"), ReasonSMTPBlocked},      // GMX (postmaster.gmx.com error messages)
	{atRCPT, smtpReply(550, "", "Benutzer hat das Speichervolumen ueberschritten. / User has exhausted allowed storage space."), ReasonMailboxFull},                                                                                                         // Web.de (sitepackage.de, typische Fehlermeldungen)
	{atRCPT, smtpReply(550, "", "Message was not accepted -- invalid mailbox.  Local mailbox jane@mail.ru is unavailable: user not found"), ReasonMailboxNotFound},                                                                                          // Mail.ru (public bounce samples; mailout.ru on Mail.ru errors)
	{atRCPT, smtpReply(550, "", "spam message rejected. Please visit http://help.mail.ru/notspam-support/id?c=abc or report details to abuse@corp.mail.ru. Error code: ABC. ID: 123."), ReasonSMTPBlocked},                                                  // Mail.ru (errorsmaster.ru on "550 spam message rejected")
	{atRCPT, smtpReply(550, "5.7.1", "No such user!"), ReasonSMTPBlocked},                                                                                                                                                                                   // Yandex's unknown-user reply: 5.7.x stays policy, never undeliverable (SPEC rule first)
	{atRCPT, smtpReply(554, "5.7.1", "[2] Message rejected under suspicion of SPAM; https://ya.cc/1IrBc 1234567890-AbCdEf"), ReasonSMTPBlocked},                                                                                                             // Yandex (yandex.com/support/mail/bounces)
	{atRCPT, smtpReply(550, "5.1.1", "<jane@comcast.net> Not our Customer"), ReasonMailboxNotFound},                                                                                                                                                         // Comcast (public bounce samples)
	{atBanner, smtpReply(554, "", "resimta-po-01v.sys.comcast.net resimta-po-01v.sys.comcast.net 192.0.2.1 found on one or more DNSBLs, see http://postmaster.comcast.net/smtp-error-codes.php#BL000001"), ReasonSMTPBlocked},                               // Comcast (postmaster.comcast.net, mail error codes)
	{atRCPT, smtpReply(550, "", "Rejected by header based Anti-Spoofing policy: jane@example.com - https://community.mimecast.com/docs/DOC-1369#550 [aBcDeF.uk1]"), ReasonSMTPBlocked},                                                                      // Mimecast (Mimecast SMTP error codes)
	{atRCPT, smtpReply(550, "", "Envelope blocked - User Entry - https://community.mimecast.com/docs/DOC-1369#550 [aBcDeF.us1]"), ReasonSMTPBlocked},                                                                                                        // Mimecast (Mimecast SMTP error codes)
	{atRCPT, smtpReply(451, "", "Internal resource temporarily unavailable - https://community.mimecast.com/docs/DOC-1369#451"), ReasonSMTPTempFailure},                                                                                                     // Mimecast greylisting (Mimecast SMTP error codes)
	{atRCPT, smtpReply(554, "5.7.0", "Blocked - see https://ipcheck.proofpoint.com/?ip=192.0.2.1"), ReasonSMTPBlocked},                                                                                                                                      // Proofpoint (suped.com on Proofpoint blocks)
	{atRCPT, smtpReply(550, "", "#5.1.0 Address rejected jane@example.com"), ReasonMailboxNotFound},                                                                                                                                                         // Cisco IronPort LDAP accept query (public bounce samples, dbmailserver.com list)
	{atRCPT, smtpReply(554, "", "Your access to this mail system has been rejected due to the sending MTA's poor reputation. If you believe that this failure is in error, please contact the intended recipient via alternate means."), ReasonSMTPBlocked}, // Cisco IronPort SBRS (public bounce samples)
	{atRCPT, smtpReply(550, "", "Recipient rejected (XGEMAIL_0011)"), ReasonMailboxNotFound},                                                                                                                                                                // Sophos Email (docs.sophos.com SMTP error codes: recipient does not exist)
	{atRCPT, smtpReply(550, "", "Rejected (XGEMAIL_0004)"), ReasonSMTPBlocked},                                                                                                                                                                              // Sophos Email (docs.sophos.com SMTP error codes: RBL test failed)
	{atRCPT, smtpReply(550, "", "Service unavailable; Client host [192.0.2.1] blocked using Trend Micro RBL+. Please see http://www.mail-abuse.com/cgi-bin/lookup?ip_address=192.0.2.1"), ReasonSMTPBlocked},                                                // Trend Micro ERS (success.trendmicro.com, ERS FAQ)
	{atRCPT, smtpReply(450, "", "Mail from 192.0.2.1 deferred using Trend Micro Email Reputation database. Please see https://www.mail-abuse.com/cgi-bin/lookup?192.0.2.1"), ReasonSMTPBlocked},                                                             // Trend Micro ERS dynamic list (hardwaresecrets.com bounce samples)

	// Any step but RCPT is about us, never the mailbox.
	{atBanner, smtpReply(554, "", "mx.example.com ESMTP not accepting messages"), ReasonSMTPBlocked},
	{atBanner, smtpReply(554, "5.7.1", "Your access to this mail system has been rejected due to the sending MTA's poor reputation."), ReasonSMTPBlocked},
	{atBanner, smtpReply(521, "5.3.2", "mx.example.com does not accept mail"), ReasonSMTPBlocked},
	{atMAIL, smtpReply(550, "5.1.1", "User unknown"), ReasonSMTPBlocked}, // 5.1.1 at MAIL FROM is about our sender
	{atMAIL, smtpReply(501, "5.5.4", "Syntax: MAIL FROM:<address>"), ReasonSMTPProtocolError},
	{atEHLO, smtpReply(502, "5.5.1", "Command not implemented"), ReasonSMTPProtocolError},
	{smtpprobe.StepSTARTTLS, smtpReply(454, "4.7.0", "TLS not available due to local problem"), ReasonSMTPTempFailure},
	{smtpprobe.StepRSET, smtpReply(421, "4.4.2", "Timeout exceeded"), ReasonSMTPTempFailure},

	// Not a failure, or not SMTP.
	{atRCPT, smtpReply(250, "2.1.5", "Ok"), ReasonAccepted},
	{atRCPT, smtpReply(0, "", "garbage"), ReasonSMTPProtocolError},
	{atRCPT, smtpReply(650, "", "Out of range"), ReasonSMTPProtocolError},
}

func TestClassifyReply(t *testing.T) {
	for _, tt := range verdictTests {
		if got := ClassifyReply(tt.step, tt.r); got != tt.want {
			t.Errorf("ClassifyReply(%s, %q) = %s, want %s", tt.step, tt.r.String(), got, tt.want)
		}
	}
}

// TestClassifyReplyNeverBlamesMailbox is the SPEC's first rule as a property: no reply
// at a step before RCPT, no 5.7.x reply (in its place or qmail-style in the text) and
// no 4xx reply is ever classified undeliverable, whatever its text says.
func TestClassifyReplyNeverBlamesMailbox(t *testing.T) {
	texts := []string{
		"", "User unknown", "No such user here", "The email account that you tried to reach does not exist.",
		"The email account that you tried to reach is disabled.", "mailbox unavailable", "Unrouteable address",
		"RESOLVER.ADR.RecipientNotFound", "Recipient address rejected: Access denied. AS(201806281)",
		"sorry, no mailbox here by that name (#5.1.1)", "This mailbox is disabled (554.30)",
		"Account suspended", "Greylisted", "Client host blocked by zen.spamhaus.org", "5.1.1 user unknown",
		"#5.1.10 not found", "over quota", "<jane@example.com>... Addressee unknown", "Not a valid recipient",
		"permanent failure for one or more recipients (jane@example.com:blocked)", "Recipient rejected (XGEMAIL_0011)",
	}
	enhanced := []string{"", "5.1.1", "5.1.0", "5.1.10", "5.2.1", "5.0.0", "5.5.0", "5.4.1", "4.1.1", "4.2.1", "2.0.0", "bogus"}
	codes := []int{400, 421, 450, 451, 452, 454, 499, 500, 501, 502, 503, 504, 511, 521, 530, 550, 551, 552, 553, 554, 555, 556, 599}
	steps := []smtpprobe.Step{smtpprobe.StepConnect, atBanner, atEHLO, smtpprobe.StepSTARTTLS, atMAIL, atRCPT, smtpprobe.StepRSET, smtpprobe.StepQUIT, ""}
	n := 0
	for _, step := range steps {
		for _, code := range codes {
			for _, e := range enhanced {
				for _, text := range texts {
					r := smtpReply(code, e, text)
					n++
					got := ClassifyReply(step, r).Status()
					if got != StatusUndeliverable {
						continue
					}
					if step != atRCPT {
						t.Fatalf("ClassifyReply(%s, %q) is undeliverable: a refusal before RCPT is about the prober", step, r.String())
					}
					if code < 500 {
						t.Fatalf("ClassifyReply(%s, %q) is undeliverable: a 4xx reply is not final", step, r.String())
					}
				}
			}
		}
	}
	// Every 5.7.x, wherever the code is written.
	for _, code := range []int{550, 551, 552, 553, 554} {
		for detail := 0; detail <= 30; detail++ {
			ec := fmt.Sprintf("5.7.%d", detail)
			for _, text := range texts {
				for _, r := range []smtpprobe.Reply{smtpReply(code, ec, text), smtpReply(code, "", text+" (#"+ec+")"), smtpReply(code, "", ec+" "+text)} {
					n++
					if got := ClassifyReply(atRCPT, r); got.Status() == StatusUndeliverable {
						t.Fatalf("ClassifyReply(atRCPT, %q) = %s: a 5.7.x reply is about policy, not the mailbox", r.String(), got)
					}
				}
			}
		}
	}
	t.Logf("%d replies checked", n)
}

func TestEnhancedCodes(t *testing.T) {
	tests := []struct {
		in      string
		inText  bool // parse with enhancedInText instead of parseEnhanced
		want    enhancedCode
		wantNil bool
	}{
		{in: "5.1.1", want: enhancedCode{5, 1, 1, true}},
		{in: "4.7.28", want: enhancedCode{4, 7, 28, true}},
		{in: "5.7.606", want: enhancedCode{5, 7, 606, true}},
		{in: "5.1.10", want: enhancedCode{5, 1, 10, true}},
		{in: "2.0.0", wantNil: true},
		{in: "55.1.1", wantNil: true},
		{in: "5.1", wantNil: true},
		{in: "5.1.1.1", wantNil: true},
		{in: "5.1.1000", wantNil: true},
		{in: "5..1", wantNil: true},
		{in: "", wantNil: true},
		{in: "sorry, no mailbox here by that name (#5.1.1)", inText: true, want: enhancedCode{5, 1, 1, true}},
		{in: "sorry (#5.7.1 - chkuser)", inText: true, want: enhancedCode{5, 7, 1, true}},
		{in: "5.2.2 mailbox full", inText: true, want: enhancedCode{5, 2, 2, true}},
		{in: "disabled [#102].", inText: true, wantNil: true},
		{in: "disabled (554.30)", inText: true, wantNil: true},
		{in: "version 5.1.1 is old", inText: true, wantNil: true}, // not at the start, no '#'
		{in: "5.1.1x", inText: true, wantNil: true},
		{in: "no mailbox (#5.1.1) (#5.7.0)", inText: true, want: enhancedCode{5, 7, 0, true}}, // policy wins
		{in: "5.1.1 no mailbox (#5.7.17)", inText: true, want: enhancedCode{5, 7, 17, true}},
		{in: "(#5.1.1) then (#5.2.2)", inText: true, want: enhancedCode{5, 1, 1, true}},
	}
	for _, tt := range tests {
		got := parseEnhanced(tt.in)
		if tt.inText {
			got = enhancedInText(tt.in)
		}
		if tt.wantNil {
			if got.ok {
				t.Errorf("parse(%q) = %+v, want none", tt.in, got)
			}
			continue
		}
		if got != tt.want {
			t.Errorf("parse(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestNormalizeReplyText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", " "},
		{"User unknown", " user unknown "},
		{"<jane@example.com>: Recipient address rejected: User unknown", " recipient address rejected user unknown "},
		{"This user doesn't have a yahoo.com account (jane@yahoo.com) [-5]", " this user doesn t have a yahoo com account 5 "},
		{"Greylisted,\ttry   again--later", " greylisted try again later "},
		{"Zugriff verweigert: ungültig", " zugriff verweigert ungültig "},
		{"permanent failure for one or more recipients (jane@example.com:blocked)", " permanent failure for one or more recipients blocked "},
		{"<rbl@example.com>: no such user", " no such user "},
		{"mailbox jane.doe+x@mail.example.ru. is unavailable", " mailbox is unavailable "},
		{"to=<jöse@bücher.de>,relay=x", " to relay x "},
		{"<jane@example.com>... Addressee unknown, relay=[192.0.2.1]", " addressee unknown "},
	}
	for _, tt := range tests {
		if got := normalizeReplyText(tt.in); got != tt.want {
			t.Errorf("normalizeReplyText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func BenchmarkClassifyReply(b *testing.B) {
	for _, bb := range []struct {
		name string
		step smtpprobe.Step
		r    smtpprobe.Reply
	}{
		{"enhanced", atRCPT, smtpReply(550, "5.1.1", "<jane@example.com>: Recipient address rejected: User unknown in virtual mailbox table")},
		{"gmail", atRCPT, verdictTests[3].r},
		{"qmail", atRCPT, smtpReply(511, "", "sorry, no mailbox here by that name (#5.1.1)")},
		{"bare-text", atRCPT, smtpReply(554, "", "delivery error: dd This user doesn't have a yahoo.com account (jane@yahoo.com) [-5] - mta1325.mail.gq1.yahoo.com")},
		{"banner", atBanner, smtpReply(554, "5.7.1", "Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org")},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ClassifyReply(bb.step, bb.r)
			}
		})
	}
}
