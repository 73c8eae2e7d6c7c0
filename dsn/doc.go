// Package dsn turns bounce logs into a suppression list: the addresses that check and
// bulk then report as suppressed without probing them.
//
// # Sources
//
// A [Scanner] reads RFC 3464 delivery status notifications (multipart/report with a
// message/delivery-status part) and RFC 5965 abuse reports from mbox files, Maildir
// directories and single messages; the plain-text bounces of Exim, qmail, Yahoo and
// Exchange / Microsoft 365 NDRs; the event exports of Amazon SES (SNS notifications),
// SendGrid (event webhook), Mailgun (events API and webhooks) and Postmark (bounces API
// and webhooks); and a generic CSV (email, status or code, diagnostic, date). Files may
// be gzip-compressed; formats are recognised from content. MIME (multipart/report,
// transfer encodings, charsets, encoded words) is github.com/emersion/go-message's.
//
// # Classification
//
// Each bounce is classified as the SMTP probe's replies are, by
// [verify.ClassifyReply] on the enhanced status code first, then the basic code and the
// diagnostic text: hard ([KindHard]: mailbox_not_found, mailbox_disabled, and the
// domain-level no_such_domain and null_mx), soft ([KindSoft]: mailbox_full, temporary
// failures), or not about the recipient ([KindIgnored]: our sender or IP blocked,
// content and spam rejections, 5.7.x policy), which never suppresses anything. A
// bounce with no code and no telling text is ignored too. Delay warnings
// ([KindDelayed]) are no bounces; complaints suppress.
//
// # Policy
//
// A [List] applies a [Policy]: a hard bounce or a complaint suppresses an address at
// once; SoftLimit soft bounces (default 5) with no delivery in between, within Window
// (default 30 days), suppress it too. Each event is counted once (by its Message-ID or
// ESP event id and its address), and the outcome does not depend on the order in
// which events arrive, so merging new logs into a list read back with [ReadList]
// gives the list that reading all the logs at once would.
package dsn
