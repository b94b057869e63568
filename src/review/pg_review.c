/*
 * pg_review.c — the PostgreSQL checker: splits the script, parses each
 * statement with the server's own raw_parser, turns parse errors into
 * "syntax-error" findings and hands parse trees to the rule files.
 */
#include "postgres.h"

#include <string.h>

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "parser/parser.h"
#include "utils/memutils.h"

#include "review/checker.h"
#include "review/lint.h"
#include "review/pg_review.h"
#include "review/pg_parse.h"

/* ---- positions --------------------------------------------------------- */

/* Builds the table of line starts once per script (binary searched later). */
static void
build_lines(pg_review *r)
{
	size_t		cap = 1024;
	size_t		pos = 0;

	r->line_starts = palloc(cap * sizeof(size_t));
	r->nlines = 0;
	r->line_starts[r->nlines++] = 0;
	while (pos < r->len)
	{
		const char *nl = memchr(r->script + pos, '\n', r->len - pos);

		if (nl == NULL)
			break;
		pos = (size_t) (nl - r->script) + 1;
		if ((size_t) r->nlines == cap)
		{
			cap *= 2;
			r->line_starts = repalloc_huge(r->line_starts, cap * sizeof(size_t));
		}
		r->line_starts[r->nlines++] = pos;
	}
}

/* 1-based line and column of a script offset. */
void
bb_offset_position(const size_t *line_starts, int nlines, size_t off, int *line, int *column)
{
	int			lo = 0;
	int			hi = nlines - 1;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo + 1) / 2;

		if (line_starts[mid] <= off)
			lo = mid;
		else
			hi = mid - 1;
	}
	*line = lo + 1;
	*column = (int) (off - line_starts[lo]) + 1;
}

/* ---- helpers shared by the rule files --------------------------------- */

/* The payload of a rule when it is enabled in this run, else NULL. */
const bb_payload *
pgr_rule(pg_review *r, const char *id)
{
	return r->ctx->rule(r->ctx, id);
}

/* Reports a finding at a parse location of the current statement (-1: its
 * start); every %s argument is clipped (names can be megabytes long). */
void
pgr_emit(pg_review *r, const char *id, int location, const char *fmt,...)
{
	size_t		off = r->stmt_off;
	int			line;
	int			column;
	char		buf[BB_CLIP_MESSAGE];
	va_list		ap;

	if (strcmp(id, BB_RULE_CHECK_FAILED) != 0 && pgr_rule(r, id) == NULL)
		return;
	if (location >= 0)
		off += (size_t) location;
	if (off > r->len)
		off = r->len;
	bb_offset_position(r->line_starts, r->nlines, off, &line, &column);
	va_start(ap, fmt);
	bb_vformat_clipped(buf, sizeof(buf), BB_CLIP_NAME, fmt, ap);
	va_end(ap);
	r->ctx->emit(r->ctx, id, line, column, "%s", buf);
}

/* Bytes of an unquoted identifier (PostgreSQL: letters, digits, _, $, non-ASCII). */
static bool
ident_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == '_' || c == '$' || c >= 0x80;
}

/* The last part of the (qualified) name at a parse location as the user wrote
 * it (unquoted names keep their case); the folded name when unreadable. */
char *
pgr_spelled(pg_review *r, int location, const char *folded)
{
	const char *s = r->stmt;
	size_t		n = r->stmt_len;
	size_t		i;
	char	   *last = NULL;

	if (location < 0 || (size_t) location >= n || folded == NULL)
		return pstrdup(folded ? folded : "");
	i = (size_t) location;
	for (;;)
	{
		StringInfoData part;

		initStringInfo(&part);
		if (s[i] == '"')
		{
			i++;
			while (i < n)
			{
				if (s[i] == '"')
				{
					if (s[i + 1] == '"')
					{
						appendStringInfoChar(&part, '"');
						i += 2;
						continue;
					}
					i++;
					break;
				}
				appendStringInfoChar(&part, s[i++]);
			}
		}
		else
		{
			while (i < n && ident_byte((unsigned char) s[i]))
				appendStringInfoChar(&part, s[i++]);
		}
		if (part.len == 0)
			break;
		last = part.data;
		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
			i++;
		if (i < n && s[i] == '.')
		{
			i++;
			while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
				i++;
			continue;
		}
		break;
	}
	/* the text must spell the same name (else the location was not a name) */
	if (last == NULL || pg_strcasecmp(last, folded) != 0)
		return pstrdup(folded);
	return last;
}

/* The naming format with every template value regex-escaped, in palloc'd
 * memory (the malloc'd intermediates are freed before anything can throw). */
static char *
naming_pattern(const char *format, const char *const *keys, const char *const *vals, int nkeys)
{
	char	   *escaped[8] = {0};
	char	   *expanded = NULL;
	char	   *pattern;
	int			k;
	bool		oom = false;

	if (nkeys > lengthof(escaped))
		elog(ERROR, "too many naming template keys: %d", nkeys);
	for (k = 0; k < nkeys; k++)
	{
		escaped[k] = bb_regex_escape(vals[k] ? vals[k] : "");
		oom |= escaped[k] == NULL;
	}
	if (!oom)
		expanded = bb_template_expand(format, keys, (const char *const *) escaped, nkeys);
	for (k = 0; k < nkeys; k++)
		free(escaped[k]);
	if (expanded == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	pattern = palloc_extended(strlen(expanded) + 1, MCXT_ALLOC_NO_OOM);
	if (pattern != NULL)
		strcpy(pattern, expanded);
	free(expanded);
	if (pattern == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	return pattern;
}

/* Applies a naming payload (format regex or template, max_length) to a name;
 * a format that cannot be applied is a review.check-failed finding, a cancel
 * while matching ends the review with the cancel error. */
void
pgr_check_naming(pg_review *r, const char *id, const bb_payload *p, const char *name,
				 int location, const char *what, const char *const *keys,
				 const char *const *vals, int nkeys)
{
	if (p == NULL)
		return;
	if (p->format && p->format[0])
	{
		char	   *pattern = naming_pattern(p->format, keys, vals, nkeys);
		int			m = bb_regex_match(pattern, name);

		if (m == BB_REGEX_NOMATCH)
			pgr_emit(r, id, location, "%s%s\"%s\" does not match %s",
					 what ? what : "", what ? " " : "", name, pattern);
		else if (m == BB_REGEX_CANCELED)
			bb_review_raise_interrupt();
		else if (m != BB_REGEX_MATCH)
			pgr_emit(r, BB_RULE_CHECK_FAILED, location, "rule %s could not check the name \"%s\": %s",
					 id, name, bb_regex_last_error());
		pfree(pattern);
	}
	if (p->max_length > 0 && strlen(name) > (size_t) p->max_length)
		pgr_emit(r, id, location, "%s%s\"%s\" is longer than %d bytes",
				 what ? what : "", what ? " " : "", name, p->max_length);
}

/* Whether a LIST payload holds s (case-insensitive). */
bool
pgr_in_list(const bb_payload *p, const char *s)
{
	int			k;

	for (k = 0; k < p->nlist; k++)
		if (p->list[k] && pg_strcasecmp(p->list[k], s) == 0)
			return true;
	return false;
}

/* A table created earlier in this script, or NULL. */
pg_created_table *
pgr_table(pg_review *r, const char *name)
{
	pg_created_table *t;
	char		key[NAMEDATALEN * 2];

	if (name == NULL)
		return NULL;
	strlcpy(key, name, sizeof(key));
	t = hash_search(r->table_hash, key, HASH_FIND, NULL);
	return t && t->created ? t : NULL;
}

/* The script-wide entry of a table (created or altered here), made on demand. */
pg_created_table *
pgr_table_entry(pg_review *r, const char *name, const char *spelled, bool created)
{
	MemoryContext old;
	pg_created_table *t;
	char		key[NAMEDATALEN * 2];
	bool		found;

	strlcpy(key, name, sizeof(key));
	t = hash_search(r->table_hash, key, HASH_ENTER, &found);
	if (found)
	{
		if (created && !t->created)
		{
			t->created = true;
			t->offset = r->stmt_off;
		}
		return t;
	}
	old = MemoryContextSwitchTo(r->script_cxt);
	memset(((char *) t) + sizeof(t->key), 0, sizeof(pg_created_table) - sizeof(t->key));
	t->name = pstrdup(name);
	t->spelled = pstrdup(spelled ? spelled : name);
	t->created = created;
	t->offset = r->stmt_off;
	r->tables = lappend(r->tables, t);
	MemoryContextSwitchTo(old);
	return t;
}

/* Key of the script-wide column index. */
typedef struct column_key
{
	pg_created_table *table;
	char		name[NAMEDATALEN];
} column_key;

typedef struct column_entry
{
	column_key	key;
	pg_created_column *column;
} column_entry;

/* Fills a column key (zeroed: the whole key is hashed). */
static void
make_column_key(column_key *k, pg_created_table *t, const char *name)
{
	memset(k, 0, sizeof(*k));
	k->table = t;
	strlcpy(k->name, name, sizeof(k->name));
}

/* The first column of a table of this script with that name, or NULL (constant time:
 * a table can have 100,000 columns and as many COMMENT statements). */
pg_created_column *
pgr_column(pg_review *r, pg_created_table *t, const char *name)
{
	column_key	k;
	column_entry *e;

	if (t == NULL || name == NULL)
		return NULL;
	make_column_key(&k, t, name);
	e = hash_search(r->column_hash, &k, HASH_FIND, NULL);
	return e ? e->column : NULL;
}

/* Indexes a column just added to t->columns (same names chain as twins). */
void
pgr_add_column(pg_review *r, pg_created_table *t, pg_created_column *c)
{
	column_key	k;
	column_entry *e;
	bool		found;

	make_column_key(&k, t, c->name);
	e = hash_search(r->column_hash, &k, HASH_ENTER, &found);
	if (!found)
	{
		e->column = c;
		return;
	}
	{
		pg_created_column *last = e->column;

		while (last->twin)
			last = last->twin;
		last->twin = c;
	}
}

/* Joins a list of String nodes (or IndexElem names) with sep. */
char *
pgr_join_names(List *names, const char *sep)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, names)
	{
		Node	   *n = lfirst(lc);
		const char *s = NULL;

		if (IsA(n, String))
			s = strVal(n);
		else if (IsA(n, IndexElem))
			s = ((IndexElem *) n)->name ? ((IndexElem *) n)->name : "expr";
		if (s == NULL)
			continue;
		if (buf.len > 0)
			appendStringInfoString(&buf, sep);
		appendStringInfoString(&buf, s);
	}
	return buf.data;
}

/* The canonical name of a column type (int4 -> integer, bpchar -> char, ...). */
const char *
pgr_type_name(TypeName *t)
{
	static const char *const map[][2] = {
		{"int4", "integer"}, {"int8", "bigint"}, {"int2", "smallint"},
		{"float8", "double precision"}, {"float4", "real"}, {"bool", "boolean"},
		{"bpchar", "char"}, {"serial4", "serial"}, {"serial8", "bigserial"},
		{"serial2", "smallserial"}, {"int", "integer"}, {"character", "char"},
		{"character varying", "varchar"}, {NULL, NULL}
	};
	const char *name;
	int			k;

	if (t == NULL || t->names == NIL)
		return "";
	name = strVal(llast(t->names));
	for (k = 0; map[k][0]; k++)
		if (strcmp(name, map[k][0]) == 0)
			return map[k][1];
	return name;
}

/* Walker: is there a call of a volatile function? */
static bool
volatile_walker(Node *node, void *context)
{
	static const char *const volatile_funcs[] = {
		"random", "gen_random_uuid", "uuid_generate_v1", "uuid_generate_v1mc",
		"uuid_generate_v4", "clock_timestamp", "timeofday", "nextval", "setval",
		"txid_current", "random_normal", NULL
	};

	if (node == NULL)
		return false;
	check_stack_depth();
	if (IsA(node, FuncCall))
	{
		const char *fn = strVal(llast(((FuncCall *) node)->funcname));
		int			k;

		for (k = 0; volatile_funcs[k]; k++)
			if (strcmp(fn, volatile_funcs[k]) == 0)
				return true;
	}
	return raw_expression_tree_walker(node, volatile_walker, context);
}

/* Whether a default expression calls a volatile function (rewrites on ADD COLUMN). */
bool
pgr_is_volatile_expr(Node *expr)
{
	return volatile_walker(expr, NULL);
}

/* A DDL that locks an existing table: lock_timeout should be set before it. */
void
pgr_lock_ddl(pg_review *r, const char *table, int location)
{
	if (r->lock_timeout_set || r->lock_timeout_reported)
		return;
	if (table && pgr_table(r, table))
		return;					/* created in this script: nobody else holds it */
	if (pgr_rule(r, "migration.require-lock-timeout") == NULL)
		return;
	r->lock_timeout_reported = true;
	pgr_emit(r, "migration.require-lock-timeout", location,
			 "this statement locks \"%s\" but no SET lock_timeout comes before it",
			 table ? table : "an existing object");
}

/* ---- statement-independent scan: identifiers over 63 bytes ------------ */

/* Reports identifiers longer than NAMEDATALEN-1 bytes (the parser truncates them). */
static void
check_identifier_length(pg_review *r)
{
	const char *s = r->stmt;
	size_t		n = strlen(s);
	size_t		i = 0;

	while (i < n)
	{
		unsigned char c = (unsigned char) s[i];
		size_t		st = i;

		if (c == '\'' || ((c == 'E' || c == 'e') && s[i + 1] == '\'' && (i == 0 || !ident_byte((unsigned char) s[i - 1]))))
		{
			bool		bs = (c != '\'');

			i += bs ? 2 : 1;
			while (i < n && !(s[i] == '\'' && s[i + 1] != '\''))
				i += (s[i] == '\'' || (bs && s[i] == '\\')) ? 2 : 1;
			i++;
		}
		else if (c == '-' && s[i + 1] == '-')
		{
			while (i < n && s[i] != '\n')
				i++;
		}
		else if (c == '/' && s[i + 1] == '*')
		{
			const char *e = strstr(s + i + 2, "*/");

			i = e ? (size_t) (e - s) + 2 : n;	/* nesting does not matter here */
		}
		else if (c == '$' && (i == 0 || !ident_byte((unsigned char) s[i - 1])))
		{
			size_t		j = i + 1;

			while (j < n && ident_byte((unsigned char) s[j]) && s[j] != '$' &&
				   !(j == i + 1 && s[j] >= '0' && s[j] <= '9'))
				j++;
			if (j < n && s[j] == '$')
			{
				char	   *tag = pnstrdup(s + i, j - i + 1);
				const char *e = strstr(s + j + 1, tag);

				i = e ? (size_t) (e - s) + strlen(tag) : n;
				pfree(tag);
			}
			else
				i = j;
		}
		else if (c == '"')
		{
			size_t		bytes = 0;

			i++;
			while (i < n && !(s[i] == '"' && s[i + 1] != '"'))
			{
				i += (s[i] == '"') ? 2 : 1;
				bytes++;
			}
			i++;
			if (bytes >= NAMEDATALEN)
				pgr_emit(r, "migration.identifier-too-long", (int) st,
						 "identifier %.20s... is %zu bytes; PostgreSQL keeps only %d",
						 s + st, bytes, NAMEDATALEN - 1);
		}
		else if (ident_byte(c) && !(c >= '0' && c <= '9'))
		{
			while (i < n && ident_byte((unsigned char) s[i]))
				i++;
			if (i - st >= NAMEDATALEN)
				pgr_emit(r, "migration.identifier-too-long", (int) st,
						 "identifier %.20s... is %zu bytes; PostgreSQL keeps only %d",
						 s + st, i - st, NAMEDATALEN - 1);
		}
		else if (c >= '0' && c <= '9')
		{
			while (i < n && ident_byte((unsigned char) s[i]))
				i++;
		}
		else
			i++;
	}
}

/* ---- the driver -------------------------------------------------------- */

/* DDL/DML classes for statement.disallow-mix-ddl-dml. */
static void
track_mix(pg_review *r, Node *stmt)
{
	bool		dml = IsA(stmt, InsertStmt) || IsA(stmt, UpdateStmt) ||
		IsA(stmt, DeleteStmt) || IsA(stmt, MergeStmt);
	bool		ddl = IsA(stmt, CreateStmt) || IsA(stmt, AlterTableStmt) ||
		IsA(stmt, IndexStmt) || IsA(stmt, DropStmt) || IsA(stmt, RenameStmt) ||
		IsA(stmt, CreateTableAsStmt) || IsA(stmt, ViewStmt) ||
		IsA(stmt, CreateFunctionStmt) || IsA(stmt, CreateTrigStmt) ||
		IsA(stmt, CreateSeqStmt) || IsA(stmt, AlterSeqStmt) ||
		IsA(stmt, CreateEnumStmt) || IsA(stmt, CreateDomainStmt) ||
		IsA(stmt, AlterDomainStmt) || IsA(stmt, CompositeTypeStmt) ||
		IsA(stmt, CreateSchemaStmt);

	r->seen_dml |= dml;
	r->seen_ddl |= ddl;
	if ((dml || ddl) && r->seen_dml && r->seen_ddl && !r->mix_reported)
	{
		r->mix_reported = true;
		pgr_emit(r, "statement.disallow-mix-ddl-dml", -1,
				 "%s after %s in one script: run schema and data changes separately",
				 dml ? "DML" : "DDL", dml ? "DDL" : "DML");
	}
}

/* Runs the rules on one parsed statement. */
static void
check_stmt(pg_review *r, Node *stmt)
{
	if (pgr_rule(r, "migration.identifier-too-long"))
		check_identifier_length(r);
	track_mix(r, stmt);
	switch (nodeTag(stmt))
	{
		case T_CreateStmt:
			pgr_create_table(r, (CreateStmt *) stmt);
			break;
		case T_AlterTableStmt:
			pgr_alter_table(r, (AlterTableStmt *) stmt);
			break;
		case T_IndexStmt:
			pgr_create_index(r, (IndexStmt *) stmt);
			break;
		default:
			pgr_check_stmt(r, stmt);
			break;
	}
}

/* Converts a caught error into a finding (of `rule`) at the error position. */
static void
report_error(pg_review *r, ErrorData *ed, bool parsed, const char *rule)
{
	size_t		off = 0;
	size_t		n = strlen(r->stmt);

	/* under SPI (bb.lint is plpgsql) the error callback moves the position to internalpos */
	int			pos = ed->cursorpos > 0 ? ed->cursorpos : ed->internalpos;

	if (pos > 0)
	{
		/* the position counts characters (1-based): walk them as bytes of the encoding */
		int			chars = pos - 1;

		while (chars > 0 && off < n)
		{
			off += pg_mblen(r->stmt + off);
			chars--;
		}
		if (off > n)
			off = n;
	}
	pgr_emit(r, rule, (int) off, "%s%s",
			 parsed || strcmp(rule, BB_RULE_CHECK_FAILED) == 0 ? "cannot check this statement: " : "",
			 ed->message ? ed->message : "error");
}

/* One statement: parsed and checked in stmt_cxt (reset first); a parse or
 * rule error becomes a syntax-error finding, cancels and resource errors
 * propagate. */
static void
check_span(pg_review *r, const bb_stmt_span *sp, MemoryContext stmt_cxt)
{
	volatile bool parsed = false;

	CHECK_FOR_INTERRUPTS();
	MemoryContextReset(stmt_cxt);
	MemoryContextSwitchTo(stmt_cxt);
	r->stmt_off = sp->start;
	r->stmt = "";
	r->stmt_len = 0;
	if (sp->error != BB_SPLIT_OK)
	{
		pgr_emit(r, BB_RULE_SYNTAX_ERROR, -1, "%s", bb_split_error_message(sp->error));
		return;
	}
	if (bb_review_statement_too_big(r->ctx, sp))
		return;
	r->stmt = pnstrdup(r->script + sp->start, sp->end - sp->start);
	r->stmt_len = strlen(r->stmt);
	PG_TRY();
	{
		List	   *trees = bb_raw_parse(r->stmt);
		ListCell   *lc;

		parsed = true;
		foreach(lc, trees)
			check_stmt(r, ((RawStmt *) lfirst(lc))->stmt);
	}
	PG_CATCH();
	{
		ErrorData  *ed;

		MemoryContextSwitchTo(stmt_cxt);
		ed = CopyErrorData();
		/* cancels, shutdowns and lack of resources are not findings */
		if (ERRCODE_TO_CATEGORY(ed->sqlerrcode) == ERRCODE_OPERATOR_INTERVENTION ||
			ERRCODE_TO_CATEGORY(ed->sqlerrcode) == ERRCODE_INSUFFICIENT_RESOURCES)
			PG_RE_THROW();
		FlushErrorState();
		/* too deep or too complex to check is not a pass */
		report_error(r, ed, parsed,
					 ERRCODE_TO_CATEGORY(ed->sqlerrcode) == ERRCODE_PROGRAM_LIMIT_EXCEEDED ?
					 BB_RULE_CHECK_FAILED : BB_RULE_SYNTAX_ERROR);
	}
	PG_END_TRY();
}

/* The PostgreSQL checker: per statement a raw_parser call guarded by PG_TRY. */
void
bb_review_postgres(bb_review_ctx *ctx, const char *script, size_t len)
{
	pg_review	r;
	bb_stmt_span *raw = NULL;
	int			nspans;
	int			k;
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext script_cxt;
	MemoryContext stmt_cxt;

	memset(&r, 0, sizeof(r));
	r.ctx = ctx;
	r.script = script;
	r.len = len;
	script_cxt = AllocSetContextCreate(caller, "bb review script", ALLOCSET_DEFAULT_SIZES);
	/* a 64 kB block survives each reset: parsing a statement rarely needs more */
	stmt_cxt = AllocSetContextCreate(script_cxt, "bb review statement", 64 * 1024, 64 * 1024,
									 ALLOCSET_DEFAULT_MAXSIZE);
	r.script_cxt = script_cxt;
	MemoryContextSwitchTo(script_cxt);
	build_lines(&r);
	{
		HASHCTL		hc;

		memset(&hc, 0, sizeof(hc));
		hc.keysize = NAMEDATALEN * 2;
		hc.entrysize = sizeof(pg_created_table);
		hc.hcxt = script_cxt;
		r.table_hash = hash_create("bb review tables", 256, &hc, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
		memset(&hc, 0, sizeof(hc));
		hc.keysize = sizeof(column_key);
		hc.entrysize = sizeof(column_entry);
		hc.hcxt = script_cxt;
		r.column_hash = hash_create("bb review columns", 256, &hc, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}

	nspans = bb_split(BB_DIALECT_POSTGRES, script, len, &raw);
	if (nspans < 0)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory splitting the script")));
	PG_TRY();
	{
		for (k = 0; k < nspans; k++)
			check_span(&r, &raw[k], stmt_cxt);
	}
	PG_FINALLY();
	{
		free(raw);
	}
	PG_END_TRY();

	MemoryContextSwitchTo(script_cxt);
	r.stmt_off = 0;
	r.stmt = "";
	r.stmt_len = 0;
	pgr_finish_tables(&r);

	MemoryContextSwitchTo(caller);
	MemoryContextDelete(script_cxt);
}
