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
