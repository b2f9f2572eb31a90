#!/usr/bin/env bash
# make lint: formatting (clang-format, pinned .clang-format), static analysis
# (cppcheck) and functions banned by the style guide.
set -uo pipefail
cd "$(dirname "$0")/.."

fail=0
mapfile -t srcs < <(git ls-files 'cmd/*.c' 'pkg/*.c' 'pkg/*.h' 'tests/*.c' 'tests/*.h')
mapfile -t prod < <(git ls-files 'cmd/*.c' 'pkg/*.c' 'pkg/*.h')

if [ ${#srcs[@]} -eq 0 ]; then
	echo "lint: no sources"
	exit 1
fi

if ! clang-format --dry-run -Werror "${srcs[@]}" 2>/tmp/csr-approver-fmt.$$; then
	head -n 30 /tmp/csr-approver-fmt.$$
	echo "lint: clang-format: files need formatting (run make fmt)"
	fail=1
fi
rm -f /tmp/csr-approver-fmt.$$

# Banned functions: unbounded or unsafe string handling, and shells.
if grep -nE '\b(sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|gets|system|popen)\s*\(' "${prod[@]}" |
	grep -vE '^\S+:[0-9]+:\s*(\*|//)'; then
	echo "lint: banned function used (see STYLE.md)"
	fail=1
fi

out=$(cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,portability,performance \
	--inline-suppr --suppress=missingIncludeSystem -D_POSIX_C_SOURCE=200809L \
	-DCSR_APPROVER_CPPCHECK -I pkg "${prod[@]}" 2>&1)
if [ $? -ne 0 ]; then
	printf '%s\n' "$out" | head -n 40
	echo "lint: cppcheck found problems"
	fail=1
fi

if [ $fail -eq 0 ]; then
	echo "lint: ok (${#srcs[@]} files)"
fi
exit $fail
