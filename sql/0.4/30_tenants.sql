-- bytebase 0.4 — tenants: the schema consistency report of a database group (which tenants'
-- schemas differ from the majority of the group, and how) and the per-tenant status view
-- bb.database_versions.  Runs after the 0.3 install
-- script and as the 0.3 -> 0.4 update (new objects only, created or replaced).
--
-- The report compares the normalized schema snapshots the drivers store (drivers/driver.h:
-- tables, columns, indexes; refreshed by bb.sync_instance and after every applied change),
-- only among databases of the same engine.  It must not report what is not a difference
-- (Bytebase dropped its drift detection over false positives), so the comparison is exact
-- after a short, documented list of normalizations (bb._schema_norm and README "Tenants"):
--   * order is ignored: tables, columns and indexes are matched by name (index columns keep
--     their key order: (a, b) is not (b, a));
--   * MySQL, TiDB and ClickHouse put the database itself in "schema": it is dropped, so table
--     t of tenant_1 is table t of tenant_2; PostgreSQL keeps schema.table;
--   * names of tables, columns and indexes are compared exactly, generated ones included
--     (t_pkey, t_a_idx, MySQL's a_2): the same migrations generate the same names, and later
--     migrations refer to them (DROP INDEX t_a_idx), so a tenant whose name differs is reported;
--   * types, defaults and index expressions: see bb._schema_norm;
--   * what the snapshot does not hold is never compared (AUTO_INCREMENT counters, statistics,
--     sizes, comments, partial-index predicates, views, functions).

-- The form of one type, default or index column in which two databases of one engine are
-- compared: spellings the engine treats as the same become one.
CREATE OR REPLACE FUNCTION bb._schema_norm(engine text, aspect text, value text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  parts text[];
  p text;
  n int;
  result text := '';
  mysql boolean := engine IN ('mysql', 'tidb');
BEGIN
  IF value IS NULL THEN
    RETURN NULL;
  END IF;
  -- MariaDB shows a string default quoted ('abc'), MySQL does not (abc)
  IF mysql AND aspect = 'default' AND value ~ $re$^'([^']|'')*'$$re$ THEN
    RETURN replace(substr(value, 2, length(value) - 2), '''''', '''');
  END IF;
  -- PostgreSQL prints a relation in a regclass literal qualified only when it is not on the
  -- search_path of the session that took the snapshot: 'public.t_id_seq'::regclass = 't_id_seq'::regclass
  IF engine = 'postgres' THEN
    value := regexp_replace(value,
      $re$'("([^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)\.(?=("|[A-Za-z_])([^']|'')*'::regclass)$re$, '''', 'g');
  END IF;
  -- quoted parts (literals, quoted identifiers) are kept as they are
  parts := ARRAY(SELECT m[1] FROM regexp_matches(value,
             $re$('([^']|'')*'?|"([^"]|"")*"?|`([^`]|``)*`?|[^'"`]+)$re$, 'g') AS m);
  n := coalesce(array_length(parts, 1), 0);
  FOR i IN 1 .. n LOOP
    p := parts[i];
    IF left(p, 1) IN ('''', '`') THEN
      result := result || p;
    ELSIF left(p, 1) = '"' THEN
      -- PostgreSQL: a quoted schema qualifier, "My Schema".mood (see the unquoted case below)
      IF engine = 'postgres' AND i < n AND right(result, 1) <> '.'
         AND (parts[i + 1] ~ '^\.[A-Za-z_]' OR (parts[i + 1] = '.' AND i + 1 < n AND left(parts[i + 2], 1) = '"')) THEN
        parts[i + 1] := substr(parts[i + 1], 2);
      ELSE
        result := result || p;
      END IF;
    ELSE
      p := regexp_replace(p, '\s+', ' ', 'g');
      IF engine = 'postgres' THEN
        -- format_type and the deparser qualify a type, function or operator only when it is
        -- not on the search_path: public.mood = mood
        p := regexp_replace(p, '(^|[^A-Za-z0-9_$."])[A-Za-z_][A-Za-z0-9_$]*\.(?=[A-Za-z_"]|$)', '\1', 'g');
      ELSIF mysql AND aspect = 'type' THEN
        -- type words are case-insensitive; integer display widths are not part of the type
        -- (MySQL 8.0.19+ shows int, MariaDB int(11)), unless ZEROFILL pads to them
        p := lower(p);
        IF lower(value) !~ '\mzerofill\M' THEN
          p := regexp_replace(p, '\m(tinyint|smallint|mediumint|int|integer|bigint)\(\d+\)', '\1', 'g');
        END IF;
      END IF;
      result := result || p;
    END IF;
  END LOOP;
  result := btrim(result);
  -- MySQL shows CURRENT_TIMESTAMP, MariaDB current_timestamp()
  IF mysql AND aspect = 'default' AND result ~* '^current_timestamp(\(\d*\))?$' THEN
    result := regexp_replace(lower(result), '\(\)$', '');
  END IF;
  RETURN result;
END $fn$;
COMMENT ON FUNCTION bb._schema_norm(text, text, text) IS
  'Normal form of a snapshot''s type, default or index column (aspect type|default|index) for comparison within one engine: '
  'whitespace outside quotes collapsed; PostgreSQL: schema qualifiers dropped (they depend on the snapshot session''s '
  'search_path); MySQL/TiDB: type words lower case, integer display widths dropped (unless ZEROFILL), a quoted string '
  'default unquoted, CURRENT_TIMESTAMP() spelled current_timestamp. Quoted literals and identifiers are kept as they are.';

CREATE OR REPLACE FUNCTION bb._snapshot_tables(snapshot jsonb, drop_schema boolean,
                                    OUT ord int, OUT schema text, OUT name text, OUT digest bytea)
RETURNS SETOF record
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE ROWS 20 SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'bb_snapshot_tables';
COMMENT ON FUNCTION bb._snapshot_tables(jsonb, boolean) IS
  'The tables of a schema snapshot: position in its "tables" array, schema, name and a SHA-256 digest of the table''s '
  'definition (its "schema" left out when drop_schema); one row of NULLs when the snapshot has no "tables" array.';

-- The comparison itself, set-based: each distinct table definition (grouped by digest) is
-- expanded once, whatever the number of tenants sharing it, so an unchanged fleet of 10,000
-- tenants expands none (a table with one definition cannot differ).  "Majority" is the value
-- most databases share; when two values tie for most there is none (majority_value NULL) and
-- every side is listed.  Joins are on small surrogate keys and anti-joins are EXCEPTs, so no
-- plan can rescan a large intermediate result per row; the query runs through EXECUTE so that
-- it is planned knowing the number of databases.
CREATE OR REPLACE FUNCTION bb._schema_consistency(databases bigint[])
RETURNS TABLE(database text, engine text, kind text, object text, difference text,
              majority_value text, database_value text, majority_count bigint, compared bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  RETURN QUERY EXECUTE $q$
WITH m AS MATERIALIZED (
  SELECT d.id, i.engine, i.name || '/' || d.name AS ref, d.sync_error, d.schema_snapshot IS NOT NULL AS has_snapshot
    FROM (SELECT DISTINCT x.id FROM unnest($1::bigint[]) AS x(id)) x
    JOIN bb.database d ON d.id = x.id
    JOIN bb.instance i ON i.id = d.instance_id
   WHERE d.vanished_at IS NULL
),
-- each distinct table definition per engine: the databases holding it, and where to find it
-- in the first one's snapshot; a row without digest lists unreadable snapshots
dg AS MATERIALIZED (
  SELECT m.engine, min(coalesce(t.schema, '')) AS sch, min(coalesce(t.name, '')) AS tname, t.digest,
         array_agg(m.id) AS dbs, array_agg(t.ord) AS ords
    FROM m JOIN bb.database d ON d.id = m.id
   CROSS JOIN LATERAL bb._snapshot_tables(d.schema_snapshot, m.engine <> 'postgres') AS t
   WHERE m.has_snapshot
   GROUP BY m.engine, t.digest   -- the definition holds the name (and the schema where it is kept)
),
unreadable AS MATERIALIZED (
  SELECT DISTINCT unnest(dg.dbs) AS id FROM dg WHERE dg.digest IS NULL
),
-- the databases compared, and how many of each engine
c AS MATERIALIZED (
  SELECT m.id, m.engine FROM m WHERE m.has_snapshot AND m.id NOT IN (SELECT u.id FROM unreadable u)
),
total AS MATERIALIZED (
  SELECT c.engine, count(*) AS n FROM c GROUP BY c.engine
),
dt AS MATERIALIZED (
  SELECT row_number() OVER () AS tid, dg.engine,
         CASE WHEN dg.engine = 'postgres' THEN dg.sch ELSE '' END AS sch, dg.tname, dg.dbs,
         cardinality(dg.dbs)::bigint AS weight, dg.dbs[1] AS first_db, dg.ords[1] AS first_ord
    FROM dg WHERE dg.digest IS NOT NULL
),
-- tables (tk): how many databases of the engine hold each, in how many distinct definitions
tp AS MATERIALIZED (
  SELECT row_number() OVER () AS tk, y.* FROM (
    SELECT dt.engine, dt.sch, dt.tname, sum(dt.weight)::bigint AS holders, t.n, count(*) AS variants
      FROM dt JOIN total t ON t.engine = dt.engine
     GROUP BY dt.engine, dt.sch, dt.tname, t.n) y
),
dtt AS MATERIALIZED (
  SELECT dt.tid, dt.dbs, dt.weight, dt.first_db, dt.first_ord, tp.*
    FROM dt JOIN tp ON tp.engine = dt.engine AND tp.sch = dt.sch AND tp.tname = dt.tname
),
-- columns and indexes of the tables most databases hold, in more than one definition (one
-- definition cannot differ from itself): one row per aspect compared, raw
o AS MATERIALIZED (
  SELECT dtt.tid, dtt.tk, dtt.engine, dtt.weight, x.kind, x.oname, x.aspect, x.raw
    FROM dtt JOIN bb.database d ON d.id = dtt.first_db
   CROSS JOIN LATERAL (SELECT d.schema_snapshot->'tables'->dtt.first_ord AS body) b
   CROSS JOIN LATERAL (
     SELECT 'column' AS kind, col->>'name' AS oname, a.aspect, a.raw
       FROM jsonb_array_elements(CASE WHEN jsonb_typeof(b.body->'columns') = 'array' THEN b.body->'columns' END) col
      CROSS JOIN LATERAL (VALUES
        ('type', col->>'type'),
        ('nullable', CASE WHEN col->'nullable' = 'true' THEN 'NULL' WHEN col->'nullable' = 'false' THEN 'NOT NULL'
                          ELSE 'unknown' END),
        ('default', col->>'default')) a(aspect, raw)
      WHERE jsonb_typeof(col) = 'object' AND col->>'name' IS NOT NULL
     UNION ALL
     SELECT 'index', ix->>'name', a.aspect, a.raw
       FROM jsonb_array_elements(CASE WHEN jsonb_typeof(b.body->'indexes') = 'array' THEN b.body->'indexes' END) ix
      CROSS JOIN LATERAL (VALUES
        ('columns', '(' || coalesce((SELECT string_agg(k.col #>> '{}', ', ' ORDER BY k.ord)
                                       FROM jsonb_array_elements(CASE WHEN jsonb_typeof(ix->'columns') = 'array'
                                                                      THEN ix->'columns' END) WITH ORDINALITY k(col, ord)),
                                    '') || ')'),
        ('uniqueness', CASE WHEN ix->'primary' = 'true' THEN 'primary key' WHEN ix->'unique' = 'true' THEN 'unique'
                            ELSE 'not unique' END)) a(aspect, raw)
      WHERE jsonb_typeof(ix) = 'object' AND ix->>'name' IS NOT NULL) x
   WHERE dtt.holders * 2 > dtt.n AND dtt.variants > 1
),
-- the normal form of each distinct type, default and index column list (bb._schema_norm)
nv AS MATERIALIZED (
  SELECT v.engine, v.aspect, v.raw,
         bb._schema_norm(v.engine, CASE v.aspect WHEN 'columns' THEN 'index' ELSE v.aspect END, v.raw) AS norm
    FROM (SELECT DISTINCT o.engine, o.aspect, o.raw FROM o
           WHERE o.aspect IN ('type', 'default', 'columns') AND o.raw IS NOT NULL) v
),
-- columns and indexes (ok): how many databases (of those holding the table) hold each, and
-- which definitions
op AS MATERIALIZED (
  SELECT row_number() OVER () AS ok, y.* FROM (
    SELECT x.tk, x.kind, x.oname, sum(x.weight)::bigint AS holders, array_agg(x.tid) AS tids
      FROM (SELECT DISTINCT o.tid, o.tk, o.kind, o.oname, o.weight FROM o) x
     GROUP BY x.tk, x.kind, x.oname) y
),
-- each value of each aspect of the objects most holders of their table hold, with the
-- definitions that have it
av AS MATERIALIZED (
  SELECT op.ok, o.aspect,
         CASE WHEN o.aspect IN ('type', 'default', 'columns') THEN
                coalesce(nv.norm, CASE o.aspect WHEN 'default' THEN 'no default' ELSE 'unknown' END)
              ELSE o.raw END AS val,
         sum(o.weight)::bigint AS cnt, array_agg(o.tid) AS tids
    FROM o
    JOIN op ON op.tk = o.tk AND op.kind = o.kind AND op.oname = o.oname
    JOIN tp ON tp.tk = o.tk
    LEFT JOIN nv ON nv.engine = o.engine AND nv.aspect = o.aspect AND nv.raw = o.raw
   WHERE op.holders * 2 > tp.holders
   GROUP BY 1, 2, 3
),
-- the majority value of each aspect that has more than one value (NULL on a tie)
am AS MATERIALIZED (
  SELECT v.ok, v.aspect, max(v.cnt) AS top,
         CASE WHEN count(*) FILTER (WHERE v.cnt = v.top) = 1 THEN min(v.val) FILTER (WHERE v.cnt = v.top) END AS majority
    FROM (SELECT av.ok, av.aspect, av.val, av.cnt, max(av.cnt) OVER w AS top, count(*) OVER w AS nvals
            FROM av WINDOW w AS (PARTITION BY av.ok, av.aspect)) v
   WHERE v.nvals > 1
   GROUP BY v.ok, v.aspect
),
-- what differs: per database (id) or per table definition (tid)
diff AS (
  -- tables most databases hold (or half: a tie) that a database lacks
  SELECT x.id, NULL::bigint AS tid, x.tk, 'table' AS kind, NULL::text AS oname,
         'missing' AS difference, CASE WHEN tp.holders * 2 > tp.n THEN 'present' END AS majority_value,
         'absent' AS database_value, tp.holders AS majority_count, tp.n AS compared
    FROM (SELECT c.id, tp.tk FROM tp JOIN c ON c.engine = tp.engine
           WHERE tp.holders * 2 >= tp.n AND tp.holders < tp.n
          EXCEPT
          SELECT unnest(dtt.dbs), dtt.tk FROM dtt WHERE dtt.holders * 2 >= dtt.n AND dtt.holders < dtt.n) x
    JOIN tp ON tp.tk = x.tk
  UNION ALL
  -- tables most databases do not hold (or half)
  SELECT NULL, dtt.tid, dtt.tk, 'table', NULL,
         'extra', CASE WHEN dtt.holders * 2 < dtt.n THEN 'absent' END, 'present', dtt.n - dtt.holders, dtt.n
    FROM dtt WHERE dtt.holders * 2 <= dtt.n
  UNION ALL
  -- columns and indexes most holders of their table hold (or half) that a definition lacks
  SELECT NULL, x.tid, op.tk, op.kind, op.oname,
         'missing', CASE WHEN op.holders * 2 > tp.holders THEN 'present' END, 'absent', op.holders, tp.holders
    FROM (SELECT dtt.tid, op.ok FROM op JOIN dtt ON dtt.tk = op.tk
           WHERE op.holders * 2 >= dtt.holders AND op.holders < dtt.holders
          EXCEPT
          SELECT unnest(op.tids), op.ok FROM op) x
    JOIN op ON op.ok = x.ok JOIN tp ON tp.tk = op.tk
  UNION ALL
  -- columns and indexes most holders of their table do not hold (or half)
  SELECT NULL, x.tid, op.tk, op.kind, op.oname,
         'extra', CASE WHEN op.holders * 2 < tp.holders THEN 'absent' END, 'present', tp.holders - op.holders, tp.holders
    FROM op JOIN tp ON tp.tk = op.tk CROSS JOIN LATERAL unnest(op.tids) AS x(tid)
   WHERE op.holders * 2 <= tp.holders
  UNION ALL
  -- a type, nullability, default, index column list or uniqueness unlike the majority's
  SELECT NULL, x.tid, op.tk, op.kind, op.oname,
         av.aspect || CASE WHEN av.aspect = 'columns' THEN ' differ' ELSE ' differs' END,
         am.majority, av.val, am.top, op.holders
    FROM av JOIN am ON am.ok = av.ok AND am.aspect = av.aspect JOIN op ON op.ok = av.ok
   CROSS JOIN LATERAL unnest(av.tids) AS x(tid)
   WHERE am.majority IS NULL OR av.val <> am.majority
)
SELECT r.database, r.engine, r.kind, r.object, r.difference, r.majority_value, r.database_value,
       r.majority_count, r.compared
  FROM (
    SELECT m.ref AS database, m.engine, 'database' AS kind, NULL::text AS object, 'no snapshot' AS difference,
           NULL::text AS majority_value,
           CASE WHEN m.has_snapshot THEN 'unreadable snapshot' ELSE bb._clip(m.sync_error, 200) END AS database_value,
           NULL::bigint AS majority_count, NULL::bigint AS compared, 0 AS kind_order
      FROM m WHERE NOT m.has_snapshot OR m.id IN (SELECT u.id FROM unreadable u)
    UNION ALL
    SELECT m.ref, tp.engine, f.kind, concat_ws('.', nullif(tp.sch, ''), tp.tname, f.oname),
           f.difference, f.majority_value, f.database_value, f.majority_count, f.compared,
           CASE f.kind WHEN 'table' THEN 1 WHEN 'column' THEN 2 ELSE 3 END
      FROM diff f
      JOIN tp ON tp.tk = f.tk
      LEFT JOIN dt ON dt.tid = f.tid
     CROSS JOIN LATERAL unnest(CASE WHEN f.id IS NOT NULL THEN ARRAY[f.id] ELSE dt.dbs END) AS x(id)
      JOIN m ON m.id = x.id
  ) r
 ORDER BY r.database, r.kind_order, r.object, r.difference
$q$ USING databases;
END $fn$;
COMMENT ON FUNCTION bb._schema_consistency(bigint[]) IS
  'Internal: the schema consistency report of a set of databases (no visibility check: call bb.schema_consistency).';
REVOKE ALL ON FUNCTION bb._schema_consistency(bigint[]) FROM PUBLIC;

CREATE OR REPLACE FUNCTION bb.schema_consistency(project text, "group" text)
RETURNS TABLE(database text, engine text, kind text, object text, difference text,
              majority_value text, database_value text, majority_count bigint, compared bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE proj bigint; g bb.database_group; members bigint[];
BEGIN
  PERFORM bb._require('bytebase_admin', 'bytebase_approver', 'bytebase_developer');
  proj := bb._project_id(bb._not_null('project', project));
  IF NOT bb._sees_project(proj) THEN
    RAISE EXCEPTION 'permission denied: role "%" is not a member of project "%"', bb._caller(), project
      USING ERRCODE = 'insufficient_privilege',
            HINT = format('An admin adds members with SELECT bb.grant_project(%L, %L);', project, bb._caller());
  END IF;
  g := bb._database_group(proj, project, "group");
  members := ARRAY(SELECT bb._group_members(g.id));
  IF cardinality(members) = 0 THEN
    RAISE NOTICE 'database group "%" matches no database of project "%" now', g.name, project
      USING HINT = format('See SELECT * FROM bb.database_group_members(%L, %L);', project, g.name);
    RETURN;
  END IF;
  RETURN QUERY SELECT * FROM bb._schema_consistency(members);
END $$;
COMMENT ON FUNCTION bb.schema_consistency(text, text) IS
  'The tenants of a database group whose schema differs from the majority of the group''s databases of the same engine: '
  'one row per differing table, column or index (missing, extra, type/nullable/default differs, index columns/uniqueness '
  'differ) with the majority''s value, this database''s value, how many databases share the majority and how many were '
  'compared; databases without a snapshot are listed as such. Exact after the normalizations of bb._schema_norm. '
  'For admins and approvers, and for developers in the projects they are members of.';

-- Per tenant: where it stands.  Each lateral reads one database's rows through an index
-- (changelog_database, task_database_queue), so a project of 10,000 databases lists in a
-- fraction of a second.
CREATE OR REPLACE VIEW bb.database_versions WITH (security_invoker = true) AS
  SELECT p.name AS project, i.name || '/' || d.name AS database, i.engine, e.name AS environment, d.labels,
         v.version, v.applied_at, coalesce(c.changes, 0) AS changes,
         coalesce(q.pending_issues, '{}') AS pending_issues, coalesce(q.failed_issues, '{}') AS failed_issues,
         CASE WHEN d.schema_snapshot IS NOT NULL THEN d.synced_at END AS snapshot_at,
         CASE WHEN d.schema_snapshot IS NOT NULL THEN now() - d.synced_at END AS snapshot_age
    FROM bb.database d
    JOIN bb.project p ON p.id = d.project_id
    JOIN bb.instance i ON i.id = d.instance_id
    LEFT JOIN bb.environment e ON e.id = d.environment_id
    LEFT JOIN LATERAL (
      SELECT x.version, x.applied_at FROM bb.changelog_entry x
       WHERE x.database_id = d.id AND x.status = 'done' AND x.version IS NOT NULL
       ORDER BY bb._version_key(x.version) DESC LIMIT 1) v ON true
    LEFT JOIN LATERAL (
      SELECT count(*) AS changes FROM bb.changelog_entry x WHERE x.database_id = d.id AND x.status = 'done') c ON true
    LEFT JOIN LATERAL (
      SELECT array_agg(DISTINCT t.issue_id ORDER BY t.issue_id) FILTER (WHERE t.status <> 'failed') AS pending_issues,
             array_agg(DISTINCT t.issue_id ORDER BY t.issue_id) FILTER (WHERE t.status = 'failed') AS failed_issues
        FROM bb.task t JOIN bb.issue s ON s.id = t.issue_id
       WHERE t.database_id = d.id AND t.status IN ('pending_approval', 'pending', 'running', 'failed')
         AND s.status IN ('open', 'failed')) q ON true
   WHERE d.vanished_at IS NULL
   ORDER BY p.name, i.name, d.name;
COMMENT ON VIEW bb.database_versions IS
  'Per database of a project (vanished ones excluded): engine, environment, labels, the highest version applied '
  '(version order, not time) and when, how many changes were applied, the open or failed issues whose task on it '
  'waits or runs (pending_issues) or failed (failed_issues), and when its schema snapshot was taken and its age.';

-- The per-tenant status view is for every bytebase role (security_invoker: row-level security of
-- bb.database shows a developer only their projects); the consistency report is a function that
-- checks roles and project visibility itself.
GRANT SELECT ON bb.database_versions TO bytebase_admin, bytebase_approver, bytebase_developer;
