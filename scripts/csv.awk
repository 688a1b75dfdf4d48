# csv.awk: the one CSV reader of the awk scripts (plots/prep.awk,
# profiles/summarize.awk, scripts/compare-runs, scripts/gbench-vs-kernels);
# load it first: awk -f scripts/csv.awk -f SCRIPT, or prepend its text to an
# inline program as the two shell scripts do.
#
# Split one CSV line (RFC 4180 quoting, no line breaks inside fields) into f.
function csv(line, f,    n, q) {
    split("", f)
    sub(/\r$/, "", line)
    for (n = 1; ; n++) {
        f[n] = ""
        if (substr(line, 1, 1) == "\"") {
            line = substr(line, 2)
            while ((q = index(line, "\"")) && substr(line, q + 1, 1) == "\"") {
                f[n] = f[n] substr(line, 1, q)
                line = substr(line, q + 2)
            }
            if (!q) q = length(line) + 1
            f[n] = f[n] substr(line, 1, q - 1)
            line = substr(line, q + 1)
        } else if ((q = index(line, ","))) {
            f[n] = substr(line, 1, q - 1)
            line = substr(line, q)
        } else {
            f[n] = line
            line = ""
        }
        if (substr(line, 1, 1) != ",") return n
        line = substr(line, 2)
    }
}

# Checks of the data the scripts read. A failed check prints one line,
# "PROG: MSG", where PROG is the caller's -v prog=NAME, and exits with
# status 2; an END block runs after exit, so the caller's must start with
# `if (csv_failed) exit 2`.
function csv_fail(msg) {
    print prog ": " msg > "/dev/stderr"
    csv_failed = 1
    exit 2
}

# Split a data line into f, stopping on a torn or corrupt row: one with
# another field count than the header's n_header. where = "FILE:LINE".
function csv_row(line, f, n_header, where,    n) {
    n = csv(line, f)
    if (n != n_header) csv_fail(where ": " n " fields where the header has " n_header " (a torn or corrupt row)")
    return n
}

# A finite decimal number: not empty, nan, inf or text.
function is_number(s) { return s ~ /^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$/ }

# Field value s of column name as a number, stopping unless it is one
# (and, with positive set, unless it is above 0).
function csv_number(s, name, where, positive) {
    if (!is_number(s) || (positive && s + 0 <= 0))
        csv_fail(where ": " name " is '" s "', expected a" (positive ? " positive" : "") " number")
    return s + 0
}

# Host-paced rows of results.csv files without a host_paced column (written
# before it existed): the CPU needs this fraction of the median step or more
# to enqueue the step. A copy of ZZ_HOST_PACED_FRACTION in harness/output/report.h,
# which decides the host_paced column of newer files; tests/test_compare_runs.c
# fails when the two differ.
function host_paced_fraction() { return 0.9 }
