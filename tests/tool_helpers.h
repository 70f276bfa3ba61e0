/* SPDX-License-Identifier: MIT */
/*
 * tool_helpers.h - shared by the test programs that run a built tool
 * (amxrt-bench, -info, -arena, -loadbench, -run, ...): finding it, running
 * it through popen with stdout and stderr captured apart along with its
 * exit status, and counting lines and reading markdown table cells in
 * what it printed.
 *
 * A tool NAME is $AMXRT_BIN/NAME (set by run_tests.sh), else
 * $AMXRT_SRCDIR/build/bin/NAME, else ../bin/NAME next to the test program
 * (BUILD/tests/PROG -> BUILD/bin/NAME).
 */
#ifndef AMXRT_TESTS_TOOL_HELPERS_H
#define AMXRT_TESTS_TOOL_HELPERS_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The tool find_tool() found, run by run_tool(). */
static char tool[512];

/* Find tool NAME; returns 0, or -1 with a reason (for SKIP) in why. */
static inline int find_tool(const char *name, char *why, size_t len)
{
	const char *bin = getenv("AMXRT_BIN");
	const char *src = getenv("AMXRT_SRCDIR");
	char self[400], *slash;
	ssize_t n;

	if (bin && *bin) {
		snprintf(tool, sizeof(tool), "%s/%s", bin, name);
	} else if (src && *src) {
		snprintf(tool, sizeof(tool), "%s/build/bin/%s", src, name);
	} else {
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n <= 0) {
			snprintf(
				why, len,
				"AMXRT_BIN and AMXRT_SRCDIR are unset and /proc/self/exe is unreadable");
			return -1;
		}
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash)
			*slash = '\0';
		snprintf(tool, sizeof(tool), "%s/../bin/%s", self, name);
	}
	if (access(tool, X_OK)) {
		snprintf(why, len, "%s: %s", tool, strerror(errno));
		return -1;
	}
	return 0;
}

struct run {
	char out[65536], err[8192];
	int status; /* exit status, or -1 */
};

/* Read the file at path into buf, NUL-terminated ("" if unreadable). */
static inline void slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, len - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
}

/*
 * Run "env ENV 'PATH' ARGS 2>ERRFILE" through popen, stdout and stderr
 * apart, with stdin holding input when it is not NULL (else inherited).
 * ENV is what env(1) takes before the command: "" or "-u VAR A=B ...".
 */
static inline void run_cmd(struct run *r, const char *env, const char *path,
			   const char *input, const char *args)
{
	char errfile[] = "/tmp/amxrt-tool-err.XXXXXX";
	char infile[] = "/tmp/amxrt-tool-in.XXXXXX";
	char cmd[8192], in[64] = "";
	FILE *p;
	size_t n;
	int fd, st;

	memset(r, 0, sizeof(*r));
	r->status = -1;
	fd = mkstemp(errfile);
	if (fd < 0)
		return;
	close(fd);
	if (input) {
		fd = mkstemp(infile);
		if (fd < 0) {
			unlink(errfile);
			return;
		}
		if (write(fd, input, strlen(input)) < 0)
			input = NULL;
		close(fd);
		snprintf(in, sizeof(in), " <'%s'", infile);
	}
	snprintf(cmd, sizeof(cmd), "env %s '%s' %s%s 2>'%s'", env, path, args,
		 in, errfile);
	p = popen(cmd, "r");
	if (p) {
		n = fread(r->out, 1, sizeof(r->out) - 1, p);
		r->out[n] = '\0';
		st = pclose(p);
		if (st != -1 && WIFEXITED(st))
			r->status = WEXITSTATUS(st);
	}
	slurp(errfile, r->err, sizeof(r->err));
	unlink(errfile);
	if (in[0])
		unlink(infile);
}

/* Run "env ENV TOOL ARGS" (the tool find_tool() found). */
static inline void run_tool(struct run *r, const char *env, const char *args)
{
	run_cmd(r, env, tool, NULL, args);
}

/* How many times c occurs in s. */
static inline int count(const char *s, char c)
{
	int n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

static inline int lines(const char *s)
{
	return count(s, '\n');
}

/* Copy cell i (0-based) of a table row "| a | b | ... |" into buf. */
static inline int cell(const char *row, int i, char *buf, size_t len)
{
	const char *s = row, *e;
	size_t n;

	for (; i >= 0; i--) {
		s = strchr(s, '|');
		if (!s)
			return -1;
		s++;
	}
	e = strchr(s, '|');
	if (!e)
		return -1;
	while (*s == ' ')
		s++;
	n = (size_t)(e - s);
	while (n && s[n - 1] == ' ')
		n--;
	snprintf(buf, len, "%.*s", (int)n, s);
	return 0;
}

#endif /* AMXRT_TESTS_TOOL_HELPERS_H */
