// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Operations as text: one line per operation, "kind field=value ...", the
 * names of the group's paths spelled out, then " #" and what was seen (not
 * read back). --replay executes such lines again, so a failure's log is a
 * reproducer, and reduce.sh can cut it down.
 */
#include "exerciser.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct op_type ex_types[OP_NKINDS] = {
	[OP_OPEN] = {"open", "a s flags mode", ex_exec_open},
	[OP_CLOSE] = {"close", "s", ex_exec_close},
	[OP_READ] = {"read", "s len", ex_exec_read},
	[OP_PREAD] = {"pread", "s off len", ex_exec_read},
	[OP_WRITE] = {"write", "s len d", ex_exec_write},
	[OP_PWRITE] = {"pwrite", "s off len d", ex_exec_write},
	[OP_SEEK] = {"lseek", "s off flags", ex_exec_seek},
	[OP_COPY] = {"copy_file_range", "s off t off2 len flags", ex_exec_copy},
	[OP_TRUNCATE] = {"truncate", "a len", ex_exec_truncate},
	[OP_FTRUNCATE] = {"ftruncate", "s len", ex_exec_ftruncate},
	[OP_FALLOCATE] = {"fallocate", "s flags off len", ex_exec_fallocate},
	[OP_FSYNC] = {"fsync", "s flags", ex_exec_fsync},
	[OP_DROP] = {"drop_caches", "", ex_exec_drop},
	[OP_CHECK] = {"check", "", ex_exec_check},
	[OP_COMMIT] = {"commit", "a", ex_exec_commit},
	[OP_LOOK] = {"look", "s", ex_exec_look},
	[OP_MAP_ONCE] = {"map", "s flags off len mode d", ex_exec_map_once},
	[OP_MAP_KEEP] = {"map_keep", "s", ex_exec_map_keep},
	[OP_MAP_WRITE] = {"map_write", "s off len mode d", ex_exec_map_write},
	[OP_RENAME] = {"rename", "a b flags", ex_exec_namespace},
	[OP_UNLINK] = {"unlink", "a", ex_exec_namespace},
	[OP_RMDIR] = {"rmdir", "a", ex_exec_namespace},
	[OP_MKDIR] = {"mkdir", "a mode", ex_exec_namespace},
	[OP_LINK] = {"link", "a b flags", ex_exec_namespace},
	[OP_SYMLINK] = {"symlink", "name b", ex_exec_namespace},
	[OP_CHMOD] = {"chmod", "a s mode", ex_exec_meta},
	[OP_CHOWN] = {"chown", "a s uid gid flags", ex_exec_meta},
	[OP_UTIMENS] = {"utimens", "a s t0 n0 t1 n1 null flags", ex_exec_meta},
	[OP_SETXATTR] = {"setxattr", "a s name len flags d", ex_exec_xattr},
	[OP_GETXATTR] = {"getxattr", "a s name len", ex_exec_xattr},
	[OP_REMOVEXATTR] = {"removexattr", "a s name", ex_exec_xattr},
	[OP_LISTXATTR] = {"listxattr", "a s", ex_exec_xattr},
};

#define FIELD(f)                                                               \
	{                                                                      \
#f, offsetof(struct op, f)                                     \
	}
static const struct {
	const char *key;
	size_t off;
} fields[] = {
	FIELD(s),    FIELD(t),	  FIELD(a),    FIELD(b),   FIELD(flags),
	FIELD(mode), FIELD(off),  FIELD(off2), FIELD(len), FIELD(uid),
	FIELD(gid),  FIELD(name), FIELD(d),    FIELD(t0),  FIELD(n0),
	FIELD(t1),   FIELD(n1),	  FIELD(null),
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static long long *field(struct op *op, const char *key, size_t len)
{
	size_t k;

	for (k = 0; k < NFIELDS; k++)
		if (strlen(fields[k].key) == len &&
		    !strncmp(fields[k].key, key, len))
			return (long long *)((char *)op + fields[k].off);
	return NULL;
}

void ex_op_init(struct op *op, int kind)
{
	*op = (struct op){.kind = kind, .s = -1, .t = -1, .a = -1, .b = -1};
}

static bool is(const char *key, size_t len, const char *name)
{
	return strlen(name) == len && !strncmp(key, name, len);
}

static int format_one(const struct op *op, const char *key, size_t len,
		      char *out, size_t size)
{
	long long v = *field((struct op *)op, key, len);
	bool ref = is(key, len, "a") || is(key, len, "b") ||
		   is(key, len, "s") || is(key, len, "t");

	if (ref && v < 0)
		return 0; /* not used this time */
	if ((is(key, len, "a") || is(key, len, "b")) && v < ex_npaths)
		return snprintf(out, size, " %.*s=%s", (int)len, key,
				ex_paths[v]);
	if (is(key, len, "flags") || is(key, len, "mode"))
		return snprintf(out, size, " %.*s=0%llo", (int)len, key, v);
	if (is(key, len, "d"))
		return snprintf(out, size, " d=0x%llx", v);
	return snprintf(out, size, " %.*s=%lld", (int)len, key, v);
}

void ex_op_format(const struct op *op, char *out, size_t size)
{
	const char *f = ex_types[op->kind].fields;
	size_t n = (size_t)snprintf(out, size, "%s", ex_types[op->kind].name);

	while (*f && n < size) {
		size_t len = strcspn(f, " ");
		n += (size_t)format_one(op, f, len, out + n, size - n);
		f += len;
		f += strspn(f, " ");
	}
}

static int parse_value(const char *key, size_t klen, const char *val,
		       size_t vlen, long long *out)
{
	char buf[128], *end;
	int k;

	if (vlen == 0 || vlen >= sizeof(buf))
		return -1;
	memcpy(buf, val, vlen);
	buf[vlen] = '\0';
	if (is(key, klen, "a") || is(key, klen, "b")) {
		for (k = 0; k < ex_npaths; k++)
			if (!strcmp(ex_paths[k], buf)) {
				*out = k;
				return 0;
			}
	}
	*out = strtoll(buf, &end, 0);
	return *end ? -1 : 0;
}

static bool in(long long v, long long lo, long long hi)
{
	return v >= lo && v < hi;
}

/* What executing @op relies on (a replay may bring anything). */
static bool valid(const struct op *op)
{
	int k = op->kind;
	bool a_or_s = k >= OP_CHMOD;
	long long names = k == OP_SYMLINK ? ex_ntargets : ex_nxnames;

	if (!in(op->s, -1, NSLOT) || !in(op->t, -1, NSLOT) ||
	    !in(op->a, -1, ex_npaths) || !in(op->b, -1, ex_npaths) ||
	    !in(op->name, 0, names) || !in(op->len, 0, MAX_DATA + 1))
		return false;
	if (a_or_s)
		return op->a >= 0 || op->s >= 0;
	if (k == OP_OPEN)
		return op->a >= 0 && op->s >= 0;
	if (k == OP_TRUNCATE || (k >= OP_RENAME && k <= OP_LINK))
		return op->a >= 0 &&
		       (op->b >= 0 || (k != OP_RENAME && k != OP_LINK));
	return k != OP_SYMLINK || op->b >= 0;
}

int ex_op_parse(const char *text, struct op *op)
{
	size_t len = strcspn(text, " #\n");
	int kind;

	for (kind = 0; kind < OP_NKINDS; kind++)
		if (strlen(ex_types[kind].name) == len &&
		    !strncmp(ex_types[kind].name, text, len))
			break;
	if (kind == OP_NKINDS)
		return -1;
	ex_op_init(op, kind);
	for (text += len; *text == ' ';) {
		const char *eq;
		long long *f;
		text++;
		len = strcspn(text, " #\n");
		eq = memchr(text, '=', len);
		if (!len)
			break;
		f = eq ? field(op, text, (size_t)(eq - text)) : NULL;
		if (!f || parse_value(text, (size_t)(eq - text), eq + 1,
				      len - (size_t)(eq - text) - 1, f) < 0)
			return -1;
		text += len;
	}
	return valid(op) ? 0 : -1;
}

void ex_exec(struct ex *x, const struct op *op)
{
	char *line = x->log->line[x->opno % LOG_RING], text[LOG_LINE - 40];

	ex_op_format(op, text, sizeof(text));
	snprintf(line, LOG_LINE, "%6ld %s: %s #", x->opno, x->name, text);
	ex_after_commits(x);
	ex_types[op->kind].exec(x, op);
	if (x->verbose)
		fprintf(stderr, "%s\n", line);
}
