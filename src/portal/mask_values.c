/*
 * mask_values.c — the masking algorithms and the masking arguments' decoding.
 * full: "******"; partial: a quarter of the characters (at most 3) kept at each end;
 * hash: salted SHA-256 (hex, 32 characters): equal values give equal hashes (joinable in
 * the result), the salt keeps a dictionary of hashes from being computed elsewhere.
 * NULL stays NULL.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "portal.h"

static const char *const alg_names[] = {"none", "partial", "hash", "full"};

BBMaskAlg
bb_portal_alg_from_name(const char *name)
{
	for (int i = 0; i < lengthof(alg_names); i++)
		if (strcmp(name, alg_names[i]) == 0)
			return (BBMaskAlg) i;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown masking algorithm \"%s\"", name),
			 errhint("Use full, partial, hash or none.")));
	return BB_MASK_NONE;
}

const char *
bb_portal_alg_name(BBMaskAlg alg)
{
	return alg_names[alg];
}

char *
bb_portal_mask_value(const char *value, BBMaskAlg alg, const char *salt)
{
	switch (alg)
	{
		case BB_MASK_NONE:
			return pstrdup(value);
		case BB_MASK_PARTIAL:
			{
				int			len = strlen(value);
				int			chars = pg_mbstrlen_with_len(value, len);
				int			keep = Min(chars / 4, 3);
				const char *head_end = value;
				const char *tail = value;
				StringInfoData buf;

				if (keep == 0)
					return pstrdup("****");
				for (int i = 0; i < keep; i++)
					head_end += pg_mblen(head_end);
				for (int i = 0; i < chars - keep; i++)
					tail += pg_mblen(tail);
				initStringInfo(&buf);
				appendBinaryStringInfo(&buf, value, head_end - value);
				appendStringInfoString(&buf, "****");
				appendStringInfoString(&buf, tail);
				return buf.data;
			}
		case BB_MASK_HASH:
			{
				pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
				uint8		digest[PG_SHA256_DIGEST_LENGTH];
				char	   *hex = palloc(33);

				if (ctx == NULL || pg_cryptohash_init(ctx) < 0 ||
					pg_cryptohash_update(ctx, (const uint8 *) salt, strlen(salt)) < 0 ||
					pg_cryptohash_update(ctx, (const uint8 *) value, strlen(value)) < 0 ||
					pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
				{
					pg_cryptohash_free(ctx);
					elog(ERROR, "could not compute a masking hash");
				}
				pg_cryptohash_free(ctx);
				hex_encode((const char *) digest, 16, hex);
				hex[32] = '\0';
				return hex;
			}
		case BB_MASK_FULL:
		default:
			return pstrdup("******");
	}
}

/* The strings of a flat text[] (NULL elements refused). */
static char **
flat_strings(ArrayType *flat, int width, int *n)
{
	Datum	   *elems;
	bool	   *nulls;
	int			count;
	char	  **out;

	deconstruct_array(flat, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &count);
	if (count % width != 0)
		elog(ERROR, "masking argument has %d elements, not a multiple of %d", count, width);
	out = palloc(sizeof(char *) * Max(count, 1));
	for (int i = 0; i < count; i++)
	{
		if (nulls[i])
			elog(ERROR, "masking argument has a NULL element");
		out[i] = TextDatumGetCString(elems[i]);
	}
	*n = count / width;
	return out;
}

List *
bb_portal_rules_from_array(ArrayType *flat)
{
	int			n;
	char	  **s = flat_strings(flat, 4, &n);
	List	   *rules = NIL;

	for (int i = 0; i < n; i++)
	{
		BBMaskRule *r = palloc(sizeof(BBMaskRule));

		r->schema = s[4 * i];
		r->table = s[4 * i + 1];
		r->column = s[4 * i + 2];
		r->alg = bb_portal_alg_from_name(s[4 * i + 3]);
		if (r->alg != BB_MASK_NONE)
			rules = lappend(rules, r);
	}
	return rules;
}

List *
bb_portal_tables_from_array(ArrayType *flat)
{
	int			n;
	char	  **s = flat_strings(flat, 3, &n);
	List	   *tables = NIL;
	BBSnapTable *t = NULL;

	for (int i = 0; i < n; i++)
	{
		if (t == NULL || strcmp(t->schema, s[3 * i]) != 0 || strcmp(t->name, s[3 * i + 1]) != 0)
		{
			t = palloc0(sizeof(BBSnapTable));
			t->schema = s[3 * i];
			t->name = s[3 * i + 1];
			tables = lappend(tables, t);
		}
		if (s[3 * i + 2][0] != '\0')
			t->columns = lappend(t->columns, s[3 * i + 2]);
	}
	return tables;
}
