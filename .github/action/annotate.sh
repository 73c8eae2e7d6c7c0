#!/usr/bin/env bash
# annotate.sh FILE RESULTS FAIL_ON [MAX]
#
# Prints a GitHub Actions ::error annotation, at its line of FILE, for each result in
# RESULTS (everify bulk --format ndjson output, one record per input row, in input
# order) whose status or reason is in FAIL_ON (comma-separated), at most MAX of them
# (default 50), and a notice for the rest. Rows are found by a forward scan of FILE for
# each record's input in turn, so quoted multi-line CSV cells do not shift the lines.
# Needs jq and awk (both on GitHub's hosted runners).
set -euo pipefail

file=$1 results=$2 fail_on=$3 max=${4:-50}

# One line per record: input, email, status, reason, detail (syntax error or suggestion).
jq -r '[.input, .email, .status, .reason,
        (if .syntax.error != "" then .syntax.error
         elif .suggestion != "" then "did you mean " + .suggestion + "?"
         else "" end)] | @tsv' "$results" |
awk -F'\t' -v file="$file" -v fail_on="$fail_on" -v max="$max" '
  # Workflow-command escaping: data, then properties (which also escape : and ,).
  function esc(s) { gsub(/%/, "%25", s); gsub(/\r/, "%0D", s); gsub(/\n/, "%0A", s); return s }
  function prop(s) { s = esc(s); gsub(/:/, "%3A", s); gsub(/,/, "%2C", s); return s }
  BEGIN {
    n = split(fail_on, f, ",")
    for (i = 1; i <= n; i++) { gsub(/^[ \t]+|[ \t]+$/, "", f[i]); if (f[i] != "") fail[tolower(f[i])] = 1 }
  }
  NR == FNR {  # the records
    k++; input[k] = $1; email[k] = $2; status[k] = $3; reason[k] = $4; detail[k] = $5
    next
  }
  {            # the input file: match records to lines in order
    lineno++
    if (j < k && (input[j+1] == "" ? lineno > 1 : index($0, input[j+1]) > 0)) { j++; line[j] = lineno }
  }
  END {
    shown = 0; hidden = 0
    for (i = 1; i <= k; i++) {
      if (!((status[i] in fail) || (reason[i] in fail))) continue
      if (shown >= max) { hidden++; continue }
      shown++
      addr = email[i] != "" ? email[i] : input[i]
      msg = addr ": " status[i] " (" reason[i] ")"
      if (detail[i] != "") msg = msg ": " detail[i]
      loc = "file=" prop(file)
      if (i in line) loc = loc ",line=" line[i]
      printf "::error %s,title=%s::%s\n", loc, prop("everify: " reason[i]), esc(msg)
    }
    if (hidden > 0) printf "::notice file=%s::%d more rows matched --fail-on; see the results file\n", prop(file), hidden
  }
' - "$file"
