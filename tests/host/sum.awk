# SPDX-License-Identifier: LGPL-2.1-or-later
# sum.awk - tests/host/Makefile's check: the output of the gcc and clang
# runs of the unit suite passes through; their "N passed, N failed" lines
# are summed into one, printed last.  A run that exits non-zero without its
# summary line (a crash) counts as one failure; so does a missing clang.
# Markers from the Makefile: "#exit NAME STATUS" after each run,
# "#no-clang CC" when clang is not installed.
/^[0-9]+ passed, [0-9]+ failed$/ { passed += $1; failed += $3; summary = 1; next }
/^#exit / {
	if ($3 != 0) {
		bad = 1
		if (!summary) { print "FAIL " $2 ": the unit run exited with status " $3 " before its summary"; failed++ }
	}
	summary = 0
	next
}
/^#no-clang / {
	print "FAIL clang: unit tests not run: " $2 " not found (apt-get install clang; lab/setup installs it)"
	print "tests/host: clang is required: the suite runs with gcc and with clang" > "/dev/stderr"
	failed++
	next
}
{ print; fflush() }
END { printf "%d passed, %d failed\n", passed, failed; exit (bad || failed) ? 1 : 0 }
