// Package csvio is the streaming CSV input and output layer of `everify bulk`: it reads
// a CSV file (RFC 4180) or a plain one-address-per-line list, finds the address column,
// and writes every input row back byte-for-byte with result columns appended.
//
// encoding/csv cannot return a record's raw bytes, so [Reader] is a small RFC 4180
// scanner of its own over one reused buffer: memory stays flat however long the input
// is (the look-ahead plus at most about twice MaxRecord), and a typical row costs one
// allocation (its [Record.Address] string).
//
// # Detection
//
// [NewReader] sniffs a bounded look-ahead (SniffLines records, at most 256 KiB):
//
//   - Encoding: a UTF-8 byte order mark is noted ([Reader.BOM]) and stripped; UTF-16, a
//     NUL byte or many control bytes fail with [ErrNotText] naming the line.
//   - Line terminator: LF or CRLF (per record, kept in [Record.EOL]); bare CR when the
//     look-ahead holds no LF at all.
//   - Delimiter, unless [Options.Delimiter] is set: among ',' ';' tab '|', quotes
//     respected, the one giving a field count above one on ≥ 90% of the records (the
//     most fields wins, so "3,5" in a ';' file does not make ',' win), else on ≥ 50%.
//     When none fits, the input is a plain list: each line is one address, taken whole
//     (`Jane Doe <jane@example.org>` and `Doe, Jane <jane@example.org>` included)
//     unless the line is exactly one quoted field.
//   - Header: the first row is a header when none of its cells holds an '@' and one of
//     them names an e-mail column or, in a CSV, a non-empty cell heads a column whose
//     later values mostly hold '@'. In a plain list only a recognized name makes a
//     header, so a stray first line is verified, not lost.
//   - Address column, unless [Options.Column] names one (a header name, which then
//     makes the first row the header, or a 1-based index): a header that names an
//     e-mail — the wordings of CRMs, newsletter tools, address books and spreadsheets in
//     several languages: "Email", "E-mail Address" (Outlook), "Email Address"
//     (Mailchimp), "E-mail 1 - Value" (Google Contacts), "Primary Email", "Courriel",
//     "E-Mail-Adresse", "Correo electrónico", "Электронная почта", "メールアドレス",
//     "邮箱"… — whose sniffed values mostly (≥ 50% of the non-empty ones) hold an '@';
//     else the column whose values most often hold an '@'; else a recognized header
//     even without values. A header that only says "Address" is postal and never
//     chosen by name. Failing all, [ErrNoAddressColumn] lists the columns seen.
//
// # Malformed input
//
// Bad rows never stop the stream and are never dropped: [Reader.Read] returns them
// with [Record.Problem] set, and the caller reports "line N: problem" and still writes
// a row. Problems: a bare quote in an unquoted field, text after a closing quote, an
// unterminated quoted field, a ragged row (field count ≠ the header's, or the common
// count of a headerless file), an empty line ("empty row"; a final newline does not
// make one), a NUL byte past the look-ahead, and, in the address cell only, invalid
// UTF-8 or more than MaxCell octets (16 KiB; the value is then dropped). Other cells are
// passed through as bytes, so invalid UTF-8 or a long note elsewhere is no problem.
//
// A quoted field may hold delimiters, "" escapes, LF and CRLF; [Record.Line] counts
// those newlines. But when such a multi-line record comes out malformed, or larger
// than MaxRecord, or the file ends inside the quotes, the opening quote is taken for a
// stray one: the record is cut at the end of its first line (Problem "unterminated
// quoted field") and scanning resumes on the next line, so one stray quote cannot
// swallow the rest of the file. (Two stray quotes that happen to form a well-formed
// record are indistinguishable from a genuine multi-line field and are kept as one.)
// A physical line longer than MaxRecord (1 MiB) is truncated to its first MaxRecord
// octets ([Record.Truncated]) and the rest skipped without buffering.
//
// Apart from truncation, BOM + Raw + EOL of the header and every record reproduces the
// input exactly (checked by FuzzRoundTrip).
//
// # Output
//
// [Writer] writes each record's Raw bytes, the result values (quoted only when
// needed), and the record's terminator; the header gains the result column names,
// each prefixed "everify_" until it differs from every input column name, so no input
// column is shadowed. A headerless input gets a synthesized header: "email" for a plain
// list, "column1".."columnN" for a CSV. To keep the output parseable and aligned the
// Writer adds, but never removes, bytes: it quotes a plain-list line that is not a
// valid CSV field, closes an unterminated quoted field, pads short rows with empty
// fields, and ends a last line lacking a terminator with [Writer.EOL].
//
// # Usage
//
//	r, err := csvio.NewReader(in, csvio.Options{Column: column})
//	if err != nil {
//		return err // ErrNoAddressColumn, ErrUnknownColumn, ErrNotText, read error
//	}
//	w := csvio.NewWriter(out, r.Delimiter(), r.BOM())
//	w.EOL = r.EOL()
//	if err := w.WriteHeader(r.Header(), r.Fields(), names); err != nil {
//		return err
//	}
//	for {
//		rec, err := r.Read()
//		if err == io.EOF {
//			break
//		}
//		if err != nil {
//			return err
//		}
//		if rec.Problem != "" {
//			fmt.Fprintf(stderr, "line %d: %s\n", rec.Line, rec.Problem)
//		}
//		// rec.Raw is reused by the next Read: Clone rec to keep it while verifying.
//		if err := w.WriteRecord(rec, values(rec.Address)); err != nil {
//			return err
//		}
//	}
//	return w.Flush()
package csvio
