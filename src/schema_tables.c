/*
 * schema_tables.c — bb._snapshot_tables(snapshot, drop_schema): the tables of a normalized
 * schema snapshot (drivers/driver.h), each with a SHA-256 digest of its definition, so that
 * bb.schema_consistency can group ten thousand tenants' tables by content at the cost of one
 * call per database.  Grouping the jsonb values themselves compares them token by token,
 * printing them as text is slower still, and grouping their bytes sorts hundreds of megabytes;
 * 32-byte digests group in memory.
 *
 * What is digested is an exact encoding of the table (encode_object): its keys and values
 * typed and length-prefixed, nested arrays and objects as their binary jsonb bytes, so two
 * different definitions never encode alike.  Equal definitions encode alike, but for numbers
 * written with another scale (1.5, 1.50), which our snapshots do not hold: such tables count
 * as two definitions and are then compared value by value, so the only cost is speed.
 * drop_schema leaves the table's "schema" key out: on MySQL, TiDB and ClickHouse it is the
 * database itself and differs on every tenant.
 */
#include "postgres.h"

#include "common/cryptohash.h"
#include "common/sha2.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

PG_FUNCTION_INFO_V1(bb_snapshot_tables);

/* Appends one string length-prefixed: "ab" + "c" never encodes like "a" + "bc". */
static void
put_string(StringInfo buf, const char *s, int len)
{
	uint32		n = (uint32) len;

	appendBinaryStringInfo(buf, (const char *) &n, sizeof(n));
	appendBinaryStringInfo(buf, s, len);
}

/* Appends a scalar: its type, then its value. */
static void
put_scalar(StringInfo buf, JsonbValue *v)
{
	appendStringInfoChar(buf, (char) v->type);
	switch (v->type)
	{
		case jbvString:
			put_string(buf, v->val.string.val, v->val.string.len);
			break;
		case jbvNumeric:
			{
				char	   *num = numeric_normalize(v->val.numeric);

				put_string(buf, num, (int) strlen(num));
				pfree(num);
				break;
			}
		case jbvBool:
			appendStringInfoChar(buf, v->val.boolean ? 1 : 0);
			break;
		case jbvNull:
			break;
		default:
			elog(ERROR, "bytebase: unexpected jsonb value type %d", (int) v->type);
	}
}

/*
 * The encoding of an object: its top-level keys and values, leaving out the key skip (NULL:
 * none) and its value.  A nested array or object is taken as its binary jsonb bytes: a
 * container starts 4-byte aligned and pads only to 4-byte boundaries, so its bytes depend
 * on its content alone, not on where it sits; equal content (our snapshots hold strings,
 * booleans and nulls) has equal bytes, and walking its tokens would cost ten times more.
 */
static bytea *
encode_object(JsonbContainer *obj, const char *skip)
{
	JsonbIterator *it = JsonbIteratorInit(obj);
	JsonbIteratorToken tok;
	JsonbValue	v;
	int			skip_len = skip ? (int) strlen(skip) : 0;
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoSpaces(&buf, VARHDRSZ);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY && skip != NULL &&
			v.val.string.len == skip_len && memcmp(v.val.string.val, skip, skip_len) == 0)
		{
			(void) JsonbIteratorNext(&it, &v, true);	/* its value */
			continue;
		}
		appendStringInfoChar(&buf, (char) tok);
		if (tok != WJB_KEY && tok != WJB_VALUE)
			continue;			/* the object's begin and end */
		if (v.type == jbvBinary)
		{
			appendStringInfoChar(&buf, (char) jbvBinary);
			put_string(&buf, (const char *) v.val.binary.data, v.val.binary.len);
		}
		else
			put_scalar(&buf, &v);
	}
	SET_VARSIZE(buf.data, buf.len);
	return (bytea *) buf.data;
}

/* The string value of key in an object, NULL when absent or not a string. */
static text *
string_member(JsonbContainer *obj, const char *key)
{
	JsonbValue *v = getKeyJsonValueFromContainer(obj, key, (uint32) strlen(key), NULL);

	if (v == NULL || v->type != jbvString)
		return NULL;
	return cstring_to_text_with_len(v->val.string.val, v->val.string.len);
}

/*
 * One row per table object of snapshot->'tables': (ord = its 0-based position, schema, name,
 * digest = SHA-256 of its encoding); elements that are not objects are skipped.  A snapshot without a "tables" array
 * gives one row of NULLs: the caller reports it unreadable rather than comparing it.
 */
Datum
bb_snapshot_tables(PG_FUNCTION_ARGS)
{
	Jsonb	   *jb = PG_GETARG_JSONB_P(0);
	bool		drop_schema = PG_GETARG_BOOL(1);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	JsonbValue *tables = NULL;
	JsonbContainer *arr;
	Datum		values[4];
	bool		nulls[4];
	uint32		n;
	pg_cryptohash_ctx *sha;

	InitMaterializedSRF(fcinfo, 0);
	if (JsonContainerIsObject(&jb->root))
		tables = getKeyJsonValueFromContainer(&jb->root, "tables", 6, NULL);
	if (tables == NULL || tables->type != jbvBinary ||
		!JsonContainerIsArray(tables->val.binary.data) || JsonContainerIsScalar(tables->val.binary.data))
	{
		memset(nulls, true, sizeof(nulls));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		PG_RETURN_VOID();
	}
	arr = tables->val.binary.data;
	n = JsonContainerSize(arr);
	sha = pg_cryptohash_create(PG_SHA256);	/* one per call: creating one costs more than hashing */
	if (sha == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	for (uint32 i = 0; i < n; i++)
	{
		JsonbValue *elem = getIthJsonbValueFromContainer(arr, i);
		JsonbContainer *obj;
		bytea	   *definition;
		bytea	   *digest;
		text	   *schema;
		text	   *name;

		CHECK_FOR_INTERRUPTS();
		if (elem == NULL)
			continue;
		if (elem->type != jbvBinary || !JsonContainerIsObject(elem->val.binary.data))
		{
			pfree(elem);
			continue;
		}
		obj = elem->val.binary.data;
		schema = string_member(obj, "schema");
		name = string_member(obj, "name");
		definition = encode_object(obj, drop_schema ? "schema" : NULL);
		digest = palloc(VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
		SET_VARSIZE(digest, VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
		if (pg_cryptohash_init(sha) < 0 ||
			pg_cryptohash_update(sha, (const uint8 *) VARDATA(definition), VARSIZE(definition) - VARHDRSZ) < 0 ||
			pg_cryptohash_final(sha, (uint8 *) VARDATA(digest), PG_SHA256_DIGEST_LENGTH) < 0)
			elog(ERROR, "bytebase: could not compute a SHA-256 digest: %s", pg_cryptohash_error(sha));

		values[0] = Int32GetDatum((int32) i);
		nulls[0] = false;
		values[1] = schema ? PointerGetDatum(schema) : (Datum) 0;
		nulls[1] = schema == NULL;
		values[2] = name ? PointerGetDatum(name) : (Datum) 0;
		nulls[2] = name == NULL;
		values[3] = PointerGetDatum(digest);
		nulls[3] = false;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		pfree(definition);
		pfree(digest);
		if (schema)
			pfree(schema);
		if (name)
			pfree(name);
		pfree(elem);
	}
	pg_cryptohash_free(sha);
	PG_FREE_IF_COPY(jb, 0);
	PG_RETURN_VOID();
}
